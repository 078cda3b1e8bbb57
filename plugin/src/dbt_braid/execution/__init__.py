"""Execution: runs a plan: dbt batches in-process, Python assets in threads."""
