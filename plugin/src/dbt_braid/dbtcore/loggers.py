"""dbt's event loggers configured from the user's own flags, for braid's lines too.

dbt configures its loggers from the flags of the command it runs; a braid command does the
same with the user's flags for the dbt command it stands for, then hands dbt's ``Flags`` to
:func:`dbt_braid.console.adopt_dbt_flags`, so braid's lines follow ``--log-format``,
``--quiet``, ``--debug`` and ``--log-path`` as dbt's do. It lives here, not in
:mod:`dbt_braid.console`, because reading dbt's options is :mod:`.project`'s
(:func:`~dbt_braid.dbtcore.project.flags_for`), and the console sits below dbtcore.
"""

from __future__ import annotations

from collections.abc import Sequence

from dbt_braid import console
from dbt_braid.dbtcore.project import flags_for

#: dbt's options that decide where and how lines are logged (without a leading ``no-``)
_LOGGING_OPTIONS = frozenset({
    "log-format", "log-format-file", "log-level", "log-level-file", "quiet", "q", "debug",
    "d", "use-colors", "use-colors-file", "printer-width", "log-path", "project-dir",
    "log-cache-events", "show-resource-report",
})


def use_dbt_events(command: str, argv: Sequence[str]) -> None:
    """Route braid's lines and assets' log records through dbt's loggers, configured from
    the user's flags for ``command`` exactly as dbt would configure them."""
    from dbt.cli.flags import Flags
    from dbt.cli.main import cli

    dbt_command = cli.commands[command]
    # only the flags that shape logging: the rest may hold braid's own values
    # (--exclude-resource-type python) that dbt's parser would refuse
    kept = flags_for(command, argv, only=_LOGGING_OPTIONS)
    try:
        parent = cli.make_context("dbt", [command], resilient_parsing=True)
        context = dbt_command.make_context(command, kept, parent=parent)
        flags = Flags(context)
    except Exception:  # logging is a side channel: keep braid's plain lines
        return
    console.adopt_dbt_flags(flags)
