"""Schedules of ``braid.yml``: what is due, and ``braid run --due`` (issue 16)."""
