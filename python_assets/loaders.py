"""Ready-made loader assets shipped with the braid dbt package.

A project often needs a small file (a reference list, a vendor extract) in the
warehouse next to its models. Declaring it as a source table with
``python: braid.loaders.load_file`` loads it from YAML alone, without a seed
(seeds are for data the project owns and versions; these files usually come
from elsewhere and may be large or in Parquet/JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

# Format name -> pandas reader. JSON Lines is JSON read with lines=True.
_READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "csv": pd.read_csv,
    "parquet": pd.read_parquet,
    "json": pd.read_json,
    "jsonl": pd.read_json,
}

_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def load_file(
    context: Any,
    path: str,
    format: str | None = None,
    **read_options: Any,
) -> pd.DataFrame:
    """Read a CSV, Parquet or JSON file into a DataFrame.

    ``path`` is relative to the root dbt project (``context.project_dir``)
    unless absolute, so the declaration works from any working directory.
    ``format`` (csv, parquet, json, jsonl) is inferred from the extension when
    omitted; ``read_options`` go to the pandas reader unchanged (e.g.
    ``sep: ";"`` or ``dtype: {...}`` in the YAML ``params``).

    Raises ValueError for a missing file or an unknown format, naming the path.
    """
    file = Path(path)
    if not file.is_absolute():
        file = Path(context.project_dir) / file

    fmt = (format or _EXTENSIONS.get(file.suffix.lower(), "")).lower()
    if fmt == "ndjson":
        fmt = "jsonl"
    if fmt not in _READERS:
        known = ", ".join(sorted(_READERS))
        what = f"unknown format {format!r}" if format else "cannot infer the format"
        raise ValueError(
            f"load_file: {what} for {str(file)!r}; set params.format to one of: {known}"
        )
    if not file.is_file():
        raise ValueError(f"load_file: file not found: {str(file)!r}")

    if fmt == "jsonl":
        read_options.setdefault("lines", True)
    frame = _READERS[fmt](file, **read_options)
    context.log.info("loaded %d rows from %s (%s)", len(frame), file, fmt)
    return frame
