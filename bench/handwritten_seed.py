"""The hand-written way to run the seed scenario's Python step, for bench_seed.py.

What a team writes without braid, between two ``dbt run`` processes: read the dbt tables
with DuckDB, load the exchange rates, train and predict with the same functions the braid
assets use (integration_tests/python_assets/forecast.py), write the two tables back.

    python bench/handwritten_seed.py PROJECT_DIR DUCKDB_FILE
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import duckdb
import pandas as pd


class _Log:
    def info(self, *args: object) -> None:
        pass


class _Context:
    log = _Log()


def main(project: Path, database: Path) -> None:
    sys.path.insert(0, str(project / "python_assets"))
    import forecast  # the integration project's own functions

    con = duckdb.connect(str(database))
    try:
        rates = pd.read_csv(project / "data" / "exchange_rates.csv")
        con.execute("create schema if not exists main_reference")
        con.register("rates_df", rates)
        con.execute("create or replace table main_reference.exchange_rates as "
                    "select * from rates_df")
        daily = con.execute("select * from main.fct_daily_orders").df()
        model = forecast.train(daily)
        store = project / ".handwritten"
        store.mkdir(exist_ok=True)
        (store / "order_forecast_model.pkl").write_bytes(pickle.dumps(model))
        predictions = forecast.predict(model, daily, 30, _Context())
        con.execute("create schema if not exists main_forecasting")
        con.register("predictions_df", predictions)
        con.execute("create or replace table main_forecasting.predicted_orders as "
                    "select * from predictions_df")
    finally:
        con.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
