"""What braid prints: its own lines (:mod:`.lines`), through dbt's event system once a run
has set it up (:mod:`dbt_braid.dbtcore.loggers`). A run's one console stream, which speaks
in dbt's node events, is :mod:`dbt_braid.execution.stream`."""

from dbt_braid.console.lines import (
    adopt_dbt_flags,
    asset_logging,
    debug,
    event,
    records_as_debug,
    restore_dbt_events,
    say,
    warn,
)

__all__ = ["adopt_dbt_flags", "asset_logging", "debug", "event", "records_as_debug",
           "restore_dbt_events", "say", "warn"]
