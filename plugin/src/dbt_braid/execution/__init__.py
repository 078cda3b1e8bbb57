"""Execution: runs a :class:`~dbt_braid.planning.Plan`: dbt batches in-process, Python assets in threads."""
