"""Marks an environment whose dbt-core-experimental-parser is braid's test stand-in.

See ``tests/dbt_parser_standin/pyproject.toml`` for why it exists. Nothing imports it but
``scripts/bootstrap.sh`` and the test that checks which parser package is installed.
"""

STANDIN = True
