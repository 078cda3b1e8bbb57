"""dbt's global flags told from the rest of braid's arguments, and the command put first, as
dbt reads them (the real commands taking them: tests/e2e/test_cli_flags.py)."""

from __future__ import annotations


def test_global_flags_are_dbts_own_with_their_values() -> None:
    from dbt_braid.cli.flags import command_first, split_global_flags

    mine, rest = split_global_flags(["-q", "--log-level", "debug", "--bogus",
                                     "--log-format=json", "--no-use-colors", "x"])
    assert mine == ["-q", "--log-level", "debug", "--log-format=json", "--no-use-colors"]
    assert rest == ["--bogus", "x"]
    assert command_first(["-q", "--log-path", "l", "status", "-s", "a"]) == [
        "status", "-q", "--log-path", "l", "-s", "a"]
