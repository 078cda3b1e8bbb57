"""Schedule ticks, due runs and freshness policies on a given clock: no run needed."""

from __future__ import annotations

from datetime import datetime, timezone

from dbt_braid.schedules.clock import is_due, last_tick, next_tick

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_three_am_in_berlin_is_a_utc_hour_that_moves_with_summer_time() -> None:
    assert last_tick("0 3 * * *", "Europe/Berlin", at("2026-07-01 01:30")) == at(
        "2026-07-01 01:00")  # CEST, UTC+2
    assert last_tick("0 3 * * *", "Europe/Berlin", at("2026-01-15 02:30")) == at(
        "2026-01-15 02:00")  # CET, UTC+1
    assert next_tick("0 3 * * *", "UTC", at("2026-07-01 03:00")) == at("2026-07-02 03:00")
    # a tick exactly now is the last tick, not the one before it
    assert last_tick("0 3 * * *", "UTC", at("2026-07-01 03:00")) == at("2026-07-01 03:00")


def test_due_means_a_tick_since_the_last_start_and_missed_ticks_are_one_run() -> None:
    cron = "0 * * * *"
    assert is_due(cron, "UTC", None, at("2026-07-01 10:05"))  # never run
    assert not is_due(cron, "UTC", at("2026-07-01 10:00:30"), at("2026-07-01 10:59"))
    assert is_due(cron, "UTC", at("2026-07-01 10:00:30"), at("2026-07-01 11:00"))
    # three ticks missed (11, 12, 13): due, once; after that run, not again until 14:00
    assert is_due(cron, "UTC", at("2026-07-01 10:00:30"), at("2026-07-01 13:20"))
    assert not is_due(cron, "UTC", at("2026-07-01 13:20:05"), at("2026-07-01 13:59"))
    # history keeps naive UTC timestamps
    assert not is_due(cron, "UTC", datetime(2026, 7, 1, 13, 20, 5), at("2026-07-01 13:59"))


def test_dst_edges_each_tick_once() -> None:
    berlin = "Europe/Berlin"
    # spring forward (2026-03-29, 02:00 -> 03:00): 02:30 does not exist; it ticks right after
    assert next_tick("30 2 * * *", berlin, at("2026-03-29 00:00")) == at("2026-03-29 01:00")
    # fall back (2026-10-25, 03:00 -> 02:00): 02:30 happens twice, the schedule runs once
    first = next_tick("30 2 * * *", berlin, at("2026-10-25 00:00"))
    assert first == at("2026-10-25 00:30")
    assert next_tick("30 2 * * *", berlin, first) == at("2026-10-26 01:30")
    assert not is_due("30 2 * * *", berlin, at("2026-10-25 00:31"), at("2026-10-25 01:45"))


def test_overdue_is_the_strictest_broken_policy() -> None:
    from dbt_braid.history.overdue import Policy, overdue

    day = Policy(1, "day", "error_after")
    hours = Policy(6, "hour", "warn_after")
    now = at("2026-07-02 12:00")
    assert overdue([day, hours], "2026-07-02 08:00:00", now) is None
    assert overdue([day, hours], "2026-07-02 05:00:00", now) == \
        "warn_after 6 hours: last materialized 7 hours ago"
    assert overdue([day, hours], "2026-06-30 12:00:00", now) == \
        "warn_after 6 hours: last materialized 2 days ago"
    assert overdue([day], None, now) == "error_after 1 day: never materialized"
