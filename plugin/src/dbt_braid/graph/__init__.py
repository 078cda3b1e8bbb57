"""The unified graph of dbt nodes and Python assets (:mod:`.unified`)."""
