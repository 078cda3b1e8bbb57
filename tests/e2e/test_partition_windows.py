"""A partitioned asset's window written and read on real DuckDB and PostgreSQL tables (the pure
arithmetic is in tests/unit/partitions/test_windows.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from test_table_io import managers  # noqa: F401 - the fixture


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("kind", ["duckdb", "postgres", "generic-duckdb", "generic-postgres"])
def test_a_window_write_replaces_exactly_that_window(managers, kind: str) -> None:  # noqa: F811
    import pandas as pd
    from dbt_braid.core.assets import Relation
    from dbt_braid.core.windows import covering
    from test_table_io import asset

    manager, sql, database = managers(kind)
    relation = Relation(database, "parts", "daily")
    day1, day2, day3 = covering(at("2026-01-01"), at("2026-01-04"), "day")

    def rows(window, values, day=None) -> pd.DataFrame:
        when = pd.Timestamp(day or window.start.replace(tzinfo=None)).date()
        return pd.DataFrame({"order_date": [when] * len(values), "v": values})

    # the first write creates the table; each later one replaces its own day only
    for window, values in ((day1, [1, 2]), (day2, [3]), (day3, [4, 5, 6])):
        assert manager.replace_window(asset(relation), rows(window, values), "order_date",
                                      window) == len(values)
    assert manager.replace_window(asset(relation), rows(day2, [30, 31]), "order_date",
                                  day2) == 2
    got = sorted((str(d), v) for d, v in sql("select order_date, v from parts.daily"))
    assert got == [("2026-01-01", 1), ("2026-01-01", 2), ("2026-01-02", 30),
                   ("2026-01-02", 31), ("2026-01-03", 4), ("2026-01-03", 5), ("2026-01-03", 6)]
    # a row outside the window is refused, and nothing is written
    with pytest.raises(ValueError, match=r"1 row\(s\) fall outside the window 2026-01-02 "
                                         r".*order_date = 2026-01-03"):
        manager.replace_window(asset(relation), pd.concat(
            [rows(day2, [7]), rows(day2, [8], day="2026-01-03")]), "order_date", day2)
    # a write that fails half-way (a column of another type) keeps the old rows
    bad = pd.DataFrame({"order_date": [pd.Timestamp("2026-01-02").date()], "v": ["text"]})
    with pytest.raises(Exception):  # noqa: B017 - the warehouse's own conversion error
        manager.replace_window(asset(relation), bad, "order_date", day2)
    assert sorted(v for (v,) in sql(
        "select v from parts.daily where order_date = '2026-01-02'")) == [30, 31]
    assert sql("select count(*) from parts.daily")[0][0] == 7


@pytest.mark.parametrize("kind", ["duckdb", "postgres", "generic-duckdb", "generic-postgres"])
def test_an_input_is_read_for_one_window(managers, kind: str) -> None:  # noqa: F811
    """How a partitioned asset's input with an event_time will arrive: only the window's
    rows, as pandas or Arrow, read by the warehouse (not filtered in Python)."""
    import pandas as pd
    import pyarrow as pa
    from dbt_braid.core.assets import Relation
    from dbt_braid.core.windows import covering
    from dbt_braid.io.window_frames import bounds
    from test_table_io import asset, ref

    manager, _, database = managers(kind)
    relation = Relation(database, "parts", "events")
    stamps = pd.to_datetime(["2026-01-01 23:59:59", "2026-01-02 00:00:00",
                             "2026-01-02 12:30:00", "2026-01-03 00:00:00"])
    manager.store(asset(relation), pd.DataFrame({"at": stamps, "v": [1, 2, 3, 4]}))
    (day2,) = covering(at("2026-01-02"), at("2026-01-03"), "day")
    low, high = bounds(pa.timestamp("us"), day2)
    frame = manager.load_window(ref(relation), None, "at", low, high)
    assert sorted(frame["v"].tolist()) == [2, 3]  # the window is [start, end)
    table = manager.load_window(ref(relation), pa.Table, "at", low, high)
    assert isinstance(table, pa.Table) and sorted(table.column("v").to_pylist()) == [2, 3]
    with pytest.raises(LookupError):
        manager.load_window(ref(Relation(database, "parts", "missing")), None, "at", low, high)
