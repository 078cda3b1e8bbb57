"""Run history in the warehouse: records (pure), the store (dbt macros), freshness (pure)."""
