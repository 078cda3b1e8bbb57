"""Export assets: hand a model's result to people outside the warehouse.

Declared in models/forecasting/forecasting.yml as the exposure
daily_orders_export. Writing a file is an effect, not a table, so the asset
returns None and braid stores nothing for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def write_csv(forecast_summary: pd.DataFrame, path: str, context: Any) -> None:
    """Write forecast_summary to ``path`` (relative to the root dbt project)."""
    out = Path(path)
    if not out.is_absolute():
        out = Path(context.project_dir) / out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a reader never sees half a file.
    partial = out.with_name(out.name + ".partial")
    forecast_summary.to_csv(partial, index=False)
    partial.replace(out)
    context.log.info("wrote %d rows to %s", len(forecast_summary), out)
