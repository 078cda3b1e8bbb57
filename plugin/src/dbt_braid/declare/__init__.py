"""Reading what a ``python:`` declaration names from the source, without importing it."""
