"""The window arithmetic of partitioned assets (issue 17, groundwork): dbt's microbatch
meanings of batch_size, begin and lookback, and --event-time-start/--event-time-end."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from dbt_braid.core.windows import covering, floor, planned, step


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def keys(windows) -> list[str]:
    return [w.key for w in windows]


def test_windows_are_aligned_and_months_and_years_step_by_the_calendar() -> None:
    assert floor(at("2026-01-31 17:45"), "hour") == at("2026-01-31 17:00")
    assert floor(at("2026-01-31 17:45"), "month") == at("2026-01-01")
    assert step(at("2026-01-01"), "month") == at("2026-02-01")
    assert step(at("2026-12-01"), "month") == at("2027-01-01")
    assert step(at("2026-03-01"), "month", -3) == at("2025-12-01")
    assert step(at("2026-01-01"), "year", 2) == at("2028-01-01")
    assert keys(covering(at("2026-01-30 12:00"), at("2026-02-02"), "day")) == [
        "2026-01-30", "2026-01-31", "2026-02-01"]
    assert keys(covering(at("2026-01-01 22:30"), at("2026-01-02 01:00"), "hour")) == [
        "2026-01-01T22", "2026-01-01T23", "2026-01-02T00"]
    with pytest.raises(ValueError, match="batch_size must be one of hour, day, month, year"):
        floor(at("2026-01-01"), "week")


def test_a_plain_run_computes_from_the_last_window_done_less_lookback_up_to_now() -> None:
    now = at("2026-01-05 10:00")
    # the first time: from begin to the window holding now
    assert keys(planned("day", at("2026-01-01"), 1, now)) == [
        "2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]
    # later: the last window done again (lookback 1), and what came after it
    assert keys(planned("day", at("2026-01-01"), 1, now, last_done=at("2026-01-04"))) == [
        "2026-01-04", "2026-01-05"]
    assert keys(planned("day", at("2026-01-01"), 0, now, last_done=at("2026-01-04"))) == [
        "2026-01-05"]
    # done up to now: the current window is computed again, nothing before begin ever is
    assert keys(planned("day", at("2026-01-01"), 0, now, last_done=at("2026-01-05"))) == [
        "2026-01-05"]
    assert keys(planned("day", at("2026-01-04"), 9, now, last_done=at("2026-01-05"))) == [
        "2026-01-04", "2026-01-05"]
    # --full-refresh: from begin again
    assert len(planned("day", at("2026-01-01"), 1, now, last_done=at("2026-01-04"),
                       full_refresh=True)) == 5


def test_event_time_start_and_end_choose_the_windows() -> None:
    now = at("2026-03-10 08:00")
    assert keys(planned("day", at("2026-01-01"), 1, now, last_done=at("2026-03-09"),
                        event_start=at("2026-02-27"), event_end=at("2026-03-02"))) == [
        "2026-02-27", "2026-02-28", "2026-03-01"]
    # a start before begin is begin; only a start: up to the window holding now
    assert keys(planned("month", at("2026-02-01"), 0, now, event_start=at("2025-11-15"))) == [
        "2026-02", "2026-03"]


# ---- writing a window (DuckDB and PostgreSQL, real) ------------------------------------------


def test_window_rows_are_checked_before_anything_is_written() -> None:
    import pandas as pd
    from dbt_braid.core.windows import covering
    from dbt_braid.io.window_frames import window_rows

    (hour,) = covering(at("2026-01-01 05:00"), at("2026-01-01 06:00"), "hour")
    frame = pd.DataFrame({"at": pd.to_datetime(["2026-01-01 05:10", "2026-01-01 05:59"],
                                               utc=True), "v": [1, 2]})
    table, low, high = window_rows(frame, "at", hour)
    assert table.num_rows == 2 and (low.hour, high.hour) == (5, 6)
    with pytest.raises(ValueError, match="no event_time column 'when'"):
        window_rows(frame, "when", hour)
    with pytest.raises(ValueError, match="an hourly window needs a timestamp"):
        window_rows(pd.DataFrame({"d": [pd.Timestamp("2026-01-01").date()]}), "d", hour)
    with pytest.raises(ValueError, match=r"1 row\(s\) have no at"):
        window_rows(pd.DataFrame({"at": pd.to_datetime(["2026-01-01 05:10", None])}), "at",
                    hour)


