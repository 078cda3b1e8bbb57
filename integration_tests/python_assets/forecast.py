"""Daily order forecast: the Python assets order_forecast_model and predicted_orders.

Declared in models/forecasting/forecasting.yml. The model is deliberately
simple and deterministic (ordinary least squares, numpy only): a linear trend
plus a day-of-week effect, fitted separately to the number of orders and to
revenue. That is enough to show a trained artefact flowing from dbt models to
a source table that dbt models read again, and it gives the same numbers on
every run so the tests can rely on them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

TARGETS = ("n_orders", "revenue")


def _as_dates(values: pd.Series) -> list[date]:
    """Dates from whatever the warehouse returned (date objects, datetime64, strings)."""
    return [ts.date() for ts in pd.to_datetime(values)]


def _design(days: list[int], weekdays: list[int]) -> np.ndarray:
    """Columns: intercept, trend (days since the first training day), Tuesday..Sunday."""
    x = np.zeros((len(days), 8))
    x[:, 0] = 1.0
    x[:, 1] = days
    for row, weekday in enumerate(weekdays):
        if weekday > 0:  # Monday is the baseline
            x[row, 1 + weekday] = 1.0
    return x


def train(fct_daily_orders: pd.DataFrame) -> dict[str, Any]:
    """Fit trend + day-of-week least squares to daily orders and revenue.

    Returns a plain dict (floats, lists, ISO date strings) so the pickle does
    not depend on this module being importable under the same name later.
    """
    if fct_daily_orders.empty:
        raise ValueError("train: fct_daily_orders is empty, nothing to fit")
    frame = fct_daily_orders.assign(_day=_as_dates(fct_daily_orders["order_date"]))
    frame = frame.sort_values("_day")
    start = frame["_day"].iloc[0]
    days = [(d - start).days for d in frame["_day"]]
    x = _design(days, [d.weekday() for d in frame["_day"]])

    coefficients: dict[str, list[float]] = {}
    for target in TARGETS:
        y = frame[target].astype(float).to_numpy()
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        coefficients[target] = [float(b) for b in beta]

    return {
        "kind": "linear_trend_day_of_week",
        "start_date": start.isoformat(),
        "end_date": frame["_day"].iloc[-1].isoformat(),
        "n_days": len(frame),
        "coefficients": coefficients,
    }


def predict(
    order_forecast_model: dict[str, Any],
    fct_daily_orders: pd.DataFrame,
    horizon_days: int,
    context: Any,
) -> pd.DataFrame:
    """Predict orders and revenue for the horizon_days days after the last order date.

    Returns one row per day: forecast_date (date), predicted_orders and
    predicted_revenue (floats, clipped at 0).
    """
    # --vars '{forecast_horizon_days: N}' overrides the declared horizon for one run
    horizon = int(context.vars.get("forecast_horizon_days", horizon_days))
    if horizon < 1:
        raise ValueError(f"predict: horizon_days must be at least 1, got {horizon!r}")
    start = date.fromisoformat(order_forecast_model["start_date"])
    last = max(_as_dates(fct_daily_orders["order_date"]))
    forecast_dates = [last + timedelta(days=i) for i in range(1, horizon + 1)]

    x = _design([(d - start).days for d in forecast_dates], [d.weekday() for d in forecast_dates])
    coefficients = order_forecast_model["coefficients"]
    orders = np.clip(x @ np.asarray(coefficients["n_orders"]), 0.0, None)
    revenue = np.clip(x @ np.asarray(coefficients["revenue"]), 0.0, None)

    context.log.info(
        "predicting %d days from %s with a model trained on %s..%s",
        horizon,
        forecast_dates[0],
        order_forecast_model["start_date"],
        order_forecast_model["end_date"],
    )
    # kept in braid's history and plotted on the asset's catalog page
    context.add_metadata(predicted_days=horizon, trained_through=order_forecast_model["end_date"])
    return pd.DataFrame(
        {
            "forecast_date": pd.Series(forecast_dates, dtype="object"),
            "predicted_orders": orders.round(3),
            "predicted_revenue": revenue.round(2),
        }
    )
