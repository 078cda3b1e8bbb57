"""The ``pickle`` IO manager: an exposure asset's return value, pickled to a file.

The store lives in ``<project>/.braid/store/<target>`` (or ``$BRAID_STORE_DIR/<target>``),
outside dbt's ``target/`` so that ``dbt clean`` does not throw away a trained model. Writes go to a
temporary file first and are moved into place, so a failed write keeps the old value.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from dbt_braid.assets import PythonAsset
from dbt_braid.hookspecs import hookimpl
from dbt_braid.io.base import IOEnv, StoredRef

STORE_ENV = "BRAID_STORE_DIR"


class PickleStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, package_name: str, name: str) -> Path:
        return self.root / package_name / f"{name}.pkl"

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
    """One store per target: a model trained on dev is not what prod should read."""
    configured = os.environ.get(STORE_ENV)
    root = Path(configured) if configured else env.project_dir / ".braid" / "store"
    return root / str(env.target.get("name") or "default")


@hookimpl
def register_io_managers(register: Any) -> None:
    register("pickle", lambda env: PickleStore(store_root(env)))
