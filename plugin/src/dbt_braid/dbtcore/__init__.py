"""Everything braid asks of dbt-core, and what differs between its releases."""
