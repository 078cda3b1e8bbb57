"""``braid serve``'s project, parsed again when its files change.

The server parses once at start; a user then edits a model or an asset's code and expects
the page to say what ``braid status`` says (stale). A parse costs seconds, a look at the
files' modification times milliseconds, so each read of the catalog looks first: the
project's own files (dbt_project.yml, braid.yml, selectors.yml, packages.yml, what dbt
reads from its model, seed, snapshot, macro, analysis and test paths, and python_assets/)
by path, size and mtime. What Python writes beside the sources (``__pycache__``) and what
dbt writes (target/, logs/) are not the project's and change nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dbt_braid.core.loader import ASSETS_DIR
from dbt_braid.run.session import Loaded

#: files of the project's root read for themselves
TOP_FILES = ("dbt_project.yml", "braid.yml", "selectors.yml", "packages.yml",
             "dependencies.yml")
#: the suffixes of what dbt and braid read from the project's folders
SOURCES = (".sql", ".yml", ".yaml", ".py", ".csv", ".md", ".jinja", ".json")
#: dbt's RuntimeConfig attributes naming the folders it parses
PATH_ATTRS = ("model_paths", "seed_paths", "snapshot_paths", "macro_paths",
              "analysis_paths", "test_paths", "docs_paths")

Fingerprint = frozenset[tuple[str, int, int]]


def project_folders(loaded: Loaded) -> list[Path]:
    """The folders of the root project that a parse reads."""
    root = loaded.project.project_root
    names: set[str] = {ASSETS_DIR}
    for attr in PATH_ATTRS:
        names.update(str(p) for p in getattr(loaded.project.config, attr, None) or ())
    return [root / name for name in sorted(names)]


def _walk(folder: Path) -> Iterable[Path]:
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
        for name in files:
            if name.endswith(SOURCES):
                yield Path(here) / name


def fingerprint(root: Path, folders: Iterable[Path]) -> Fingerprint:
    """(path, size, mtime in ns) of every file a parse reads; a changed, added or removed
    file changes it."""
    found: set[tuple[str, int, int]] = set()
    paths = [root / name for name in TOP_FILES]
    for folder in folders:
        paths.extend(_walk(folder))
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        found.add((str(path), st.st_size, st.st_mtime_ns))
    return frozenset(found)


class Reloading:
    """The parsed project, parsed again (``load``) when its files changed since the last
    parse. A parse that fails (a file saved half-edited) leaves the last good parse in use
    and its one-line reason in ``problem`` (the page's note) until the files change again."""

    def __init__(self, loaded: Loaded, load: Callable[[], Loaded]) -> None:
        self.loaded = loaded
        self.load = load
        self.problem: str | None = None
        self._root = loaded.project.project_root
        self._seen = self._now()
        self._lock = threading.Lock()

    def _now(self) -> Fingerprint:
        return fingerprint(self._root, project_folders(self.loaded))

    def changed(self) -> bool:
        return self._now() != self._seen

    def current(self) -> Loaded:
        with self._lock:
            now = self._now()
            if now != self._seen:
                # taken before the parse: an edit during it is seen next time; a parse
                # that fails is not tried again until the files change again
                self._seen = now
                try:
                    self.loaded = self.load()
                    self.problem = None
                except Exception as exc:  # noqa: BLE001 - the server goes on, and says why
                    self.problem = ("the project was not parsed again: "
                                    + " ".join(str(exc).split()))
            return self.loaded

    def data(self, collect: Callable[[Loaded], dict[str, Any]]) -> dict[str, Any]:
        """``collect`` of the current parse, with the last parse's problem as its note."""
        data = collect(self.current())
        return {**data, "note": self.problem} if self.problem else data
