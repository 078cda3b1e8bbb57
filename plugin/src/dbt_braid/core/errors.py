"""The one user-error type.

Users meet errors, not tracebacks: anything the user can fix (a bad declaration, a bad
flag, a project that does not parse) is raised as :class:`BraidUserError`; the CLI prints
each problem on one line and exits 2. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a declaration: where it is, what is wrong, how to fix it."""

    file: str
    resource: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        what = f"{self.resource}: " if self.resource else ""
        key = f"{self.key}: " if self.key else ""
        return f"{where}{what}{key}{self.message}"


class BraidUserError(Exception):
    """Something the user can fix; printed one problem per line, exit code 2."""

    exit_code = 2

    def __init__(self, problems: str | Problem | Iterable[Problem | str]) -> None:
        if isinstance(problems, (str, Problem)):
            problems = [problems]
        self.problems: list[Problem | str] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
