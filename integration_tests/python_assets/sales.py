"""A partitioned asset: each run computes only the months it has to.

Declared in models/sales/sales.yml with ``partitions`` in dbt's microbatch
words. braid hands the function one month at a time: ``fct_orders`` arrives
holding only that month's orders (the model's ``event_time``), ``start`` is the
month's first day, and the rows returned replace exactly that month of the
table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

#: the table's columns, typed even for a month without orders (whose frame has none)
SCHEMA = pa.schema([("order_date", pa.date32()), ("country", pa.string()),
                    ("n_orders", pa.int64()), ("revenue", pa.float64()),
                    ("share_of_month", pa.float64())])


def daily_country_sales(fct_orders: pd.DataFrame, start: datetime, context: Any
                        ) -> pa.Table:
    """Orders, revenue and share of the month's revenue per day and country."""
    orders = fct_orders.assign(
        revenue=fct_orders["amount"].astype(float).where(fct_orders["is_revenue"], 0.0))
    daily = (orders.groupby(["order_date", "country"], as_index=False)
             .agg(n_orders=("order_id", "count"), revenue=("revenue", "sum")))
    month_total = daily.groupby("country")["revenue"].transform("sum")
    daily["share_of_month"] = (daily["revenue"] / month_total.where(month_total > 0)).fillna(0.0)
    context.log.info("%s: %d orders on %d days", context.partition.key, len(orders),
                     daily["order_date"].nunique())
    context.add_metadata(orders=len(orders), month=start.strftime("%Y-%m"))
    return pa.Table.from_pandas(daily, schema=SCHEMA, preserve_index=False)
