"""Partitioned Python assets in dbt's microbatch words (issue 17; only the window
arithmetic exists yet, and nothing declares or runs a partition)."""
