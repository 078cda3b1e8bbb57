"""What braid prints: its own lines (:mod:`.lines`) and a run's one console stream
(:mod:`.stream`), both through dbt's event system once a run has set it up."""

from dbt_braid.console.lines import (
    asset_logging,
    debug,
    event,
    records_as_debug,
    restore_dbt_events,
    say,
    use_dbt_events,
    warn,
)

__all__ = ["asset_logging", "debug", "event", "records_as_debug", "restore_dbt_events", "say",
           "use_dbt_events", "warn"]
