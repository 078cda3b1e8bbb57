"""The ``pickle`` IO manager: an exposure asset's return value, pickled to a file.

The store lives in ``<project>/.braid/store/<target>`` (or ``$BRAID_STORE_DIR/<target>``,
relative to the project unless absolute),
outside dbt's ``target/`` so that ``dbt clean`` does not throw away a trained model. Writes go to a
temporary file first and are moved into place, so a failed write keeps the old value.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from dbt_braid.core.assets import PythonAsset, safe_name
from dbt_braid.core.markers import hookimpl
from dbt_braid.io.base import IOEnv, StoredRef

STORE_ENV = "BRAID_STORE_DIR"


class PickleStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, package_name: str, name: str) -> Path:
        """The value's file; never outside the store, whatever the names hold (the
        declaration check refuses such names first, this is the last line)."""
        for part in (package_name, name):
            if not safe_name(part):
                raise ValueError(f"{part!r} cannot name a stored value: use letters, digits, "
                                 "'_', '-' and '.' (no path separators, no leading '.')")
        path = self.root / package_name / f"{name}.pkl"
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"{name!r} would be stored outside {self.root}")
        return path

    def load(self, ref: StoredRef, annotation: Any = None) -> Any:
        path = self.path_for(ref.package_name, ref.name)
        if not path.exists():
            raise FileNotFoundError(
                f"{ref.name} has no stored value at {path}; run it first: braid run -s {ref.name}"
            )
        with path.open("rb") as fh:
            return pickle.load(fh)

    def store(self, asset: PythonAsset, value: Any) -> int | None:
        path = self.path_for(asset.package_name, asset.name)
        if value is None:
            # the asset produced nothing this time: a reader must not get an older value
            path.unlink(missing_ok=True)
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{asset.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return None


def store_root(env: IOEnv) -> Path:
    """One store per target: a model trained on dev is not what prod should read.
    ``BRAID_STORE_DIR`` may be relative: to the project, as every path in a dbt project is."""
    configured = os.environ.get(STORE_ENV)
    root = env.project_dir / configured if configured else env.project_dir / ".braid" / "store"
    target = str(env.target.get("name") or "default")
    if not safe_name(target):
        raise ValueError(f"target {target!r} cannot name a store folder")
    return root / target


@hookimpl
def register_io_managers(register: Any) -> None:
    register("pickle", lambda env: PickleStore(store_root(env)))
