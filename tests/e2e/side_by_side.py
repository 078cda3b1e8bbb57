"""One project run by ``dbt build`` and by ``braid build``, side by side (issue 27).

Both sides start from copies of one template whose warehouse already holds what the Python
assets write (dbt cannot run them; it reads their tables as sources), run the same command
with the same selection, and are compared on what a project relies on: the exit code, each
node's status and message in ``target/run_results.json``, what the project's hooks logged
(``HOOK`` lines), and the console (times, thread order and padding normalised).

Where braid must differ, :data:`BRAID_ONLY` and :data:`DBT_ONLY` name each difference and
why; anything else that differs fails the comparison.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers import copy_to

ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: dbt's line prefix: the time, two spaces
STAMP = re.compile(r"^\d\d:\d\d:\d\d\s{1,2}")
NUMBERED = re.compile(r"^(\d+) of (\d+) (.*)$")
PYTHON_COUNT = re.compile(r", \d+ python assets?")

#: lines only braid prints, and why (and each Python asset's own log lines, ``name: ...``)
BRAID_ONLY = {
    "python asset": "a Python asset's own START/OK/ERROR/SKIP lines: dbt does not run them",
    "braid: ": "braid's own notes (history, plugins), printed as braid, not as dbt",
}
#: an exposure that declares a Python asset runs as that asset: dbt 1.12's NO-OP line and
#: result for the exposure are the asset's line and result under braid
REPLACED = "exposure"
#: lines only dbt prints, and why
DBT_ONLY = {
    "partial pars": "dbt's parse notes: braid parses once, before the run, without them "
                    "(partial parsing works as dbt's; the notes are left out)",
    "Starting full parse": "as above",
}


def run_both(template: Any, tmp_path: Path, command: str, *args: str) -> tuple[Side, Side]:
    """``dbt <command> args`` and ``braid <command> args``, each on its own copy."""
    dbt_side, braid_side = (copy_to(template, tmp_path / side / template.root.name)
                            for side in ("dbt", "braid"))
    dbt = read_side(dbt_side.root, dbt_side.dbt(command, *args))
    braid = read_side(braid_side.root, braid_side.braid(command, *args))
    return dbt, braid


@dataclass
class Side:
    """What one side of the comparison left behind."""

    returncode: int
    lines: list[str]
    #: unique_id -> (status, message) of target/run_results.json
    results: dict[str, tuple[str, str]]
    #: braid's own results of its Python assets (empty for dbt)
    python: dict[str, str] = field(default_factory=dict)

    @property
    def hooks(self) -> list[str]:
        return [line for line in self.lines if line.startswith("HOOK ")]

    @property
    def numbered(self) -> list[tuple[int, int, str]]:
        found = []
        for line in self.lines:
            match = NUMBERED.match(line)
            if match and "hook: " not in line:
                found.append((int(match[1]), int(match[2]), match[3]))
        return found


def read_side(root: Path, done: Any) -> Side:
    lines = [STAMP.sub("", ANSI.sub("", line)).rstrip()
             for line in (done.stdout + done.stderr).splitlines()]
    run_results = json.loads((root / "target" / "run_results.json").read_text())["results"]
    results = {r["unique_id"]: (r["status"], _message(r.get("message"))) for r in run_results}
    python: dict[str, str] = {}
    ours = root / "target" / "braid" / "run_results.json"
    if ours.exists():
        for r in json.loads(ours.read_text())["results"]:
            if r.get("resource_type") == "python":
                python[r["unique_id"]] = r["status"]
    return Side(done.returncode, [line for line in lines if line.strip()], results, python)


def _message(message: str | None) -> str:
    return " ".join((message or "").split())


def normalised(line: str) -> str:
    """A console line without what varies from run to run: its ``k of N`` (compared on its
    own), durations, dbt's dot padding, and the Python assets in dbt's counts."""
    match = NUMBERED.match(line)
    if match:
        line = match[3]
    line = re.sub(r"\bin \d+(\.\d+)?s\b", "in Ts", line)
    line = re.sub(r" \.+ ", " ... ", line)
    if line.startswith(("Found ", "Finished running ")):
        line = PYTHON_COUNT.sub("", line)
        line = re.sub(r" in \d+ hours.*$", "", line)
    if line.startswith("Finished running "):  # replaced exposures: compared by run_results
        line = re.sub(r"\d+ exposures?, ", "", line)
    return line


def _done_counts(lines: Sequence[str]) -> Counter[str]:
    for line in lines:
        if line.startswith("Done. "):
            return Counter({k: int(v) for k, v in re.findall(r"([A-Z-]+)=(\d+)", line)})
    return Counter()


def _less(counts: Counter[str], statuses: Sequence[str]) -> Counter[str]:
    """``Done.`` counts without the results of ``statuses``."""
    for status in statuses:
        counts[DONE_WORD.get(status, status.upper())] -= 1
        counts["TOTAL"] -= 1
    return counts


#: a Python asset's status -> the word dbt's ``Done.`` line counts it under
DONE_WORD = {"success": "PASS", "error": "ERROR", "skipped": "SKIP", "fail": "ERROR",
             "no-op": "NO-OP"}


@dataclass
class Comparison:
    """Every difference found, one line each (empty: braid behaved as dbt)."""

    differences: list[str]

    def __bool__(self) -> bool:
        return not self.differences


def _replaced(dbt: Side, braid: Side) -> Side:
    """dbt's side less the exposures that declare braid's Python assets (:data:`REPLACED`):
    their results, their lines, their numbers and their ``Done.`` counts."""
    names = {uid.split(".", 2)[2] for uid in braid.python}
    gone = {uid: status for uid, (status, _) in dbt.results.items()
            if uid.startswith(f"{REPLACED}.") and uid.split(".", 2)[2] in names}
    if not gone:
        return dbt
    shown = {f"{REPLACED} {uid.split('.', 2)[2]} " for uid in gone}
    lines = []
    for line in dbt.lines:
        match = NUMBERED.match(line)
        if match and any(mark in line for mark in shown):
            continue
        if match and "hook: " not in line:
            line = f"{match[1]} of {int(match[2]) - len(gone)} {match[3]}"
        if line.startswith("Done. "):
            counts = _less(_done_counts([line]), list(gone.values()))
            line = "Done. " + " ".join(f"{k}={v}" for k, v in counts.items())
        lines.append(line)
    results = {uid: r for uid, r in dbt.results.items() if uid not in gone}
    return Side(dbt.returncode, lines, results)


def compare(dbt: Side, braid: Side) -> Comparison:
    dbt = _replaced(dbt, braid)
    found: list[str] = []
    if dbt.returncode != braid.returncode:
        found.append(f"exit code: dbt {dbt.returncode}, braid {braid.returncode}")
    for uid in sorted(set(dbt.results) | set(braid.results)):
        if dbt.results.get(uid) != braid.results.get(uid):
            found.append(f"run_results {uid}: dbt {dbt.results.get(uid)}, "
                         f"braid {braid.results.get(uid)}")
    if dbt.hooks != braid.hooks:
        found.append(f"hooks: dbt {dbt.hooks}, braid {braid.hooks}")
    found += _numbering(dbt, braid)
    found += _lines(dbt, braid)
    return Comparison(found)


def _numbering(dbt: Side, braid: Side) -> list[str]:
    """One ``k of N`` over the whole braid run: N is dbt's plus the Python assets, each k
    starts once and none is missing."""
    found = []
    totals = {n for _, n, _ in braid.numbered}
    expected = {n for _, n, _ in dbt.numbered}
    want = {n + len(braid.python) for n in expected}
    if totals != want:
        found.append(f"k of N: braid's N {sorted(totals)}, dbt's {sorted(expected)} plus "
                     f"{len(braid.python)} Python assets")
    starts = sorted(k for k, _, rest in braid.numbered if rest.startswith("START "))
    skips = sorted(k for k, _, rest in braid.numbered if rest.startswith("SKIP "))
    if totals and sorted(starts + skips) != list(range(1, max(totals) + 1)):
        found.append(f"k of N: braid's started or skipped k are {sorted(starts + skips)}")
    return found


def _lines(dbt: Side, braid: Side) -> list[str]:
    """The console as multisets of normalised lines (threads print in any order), less the
    differences braid must have; ``Done.`` counts less the Python assets'."""
    def kept(side: Side, only: Sequence[str], logs: Sequence[str] = ()) -> Counter[str]:
        shown = (normalised(line) for line in side.lines
                 if not line.startswith(("Done. ", *logs)))
        return Counter(line for line in shown if not any(mark in line for mark in only))

    found = []
    asset_logs = [f"{uid.split('.', 2)[2]}: " for uid in braid.python]
    ours, theirs = kept(braid, list(BRAID_ONLY), asset_logs), kept(dbt, list(DBT_ONLY))
    for line in sorted((ours - theirs).elements()):
        found.append(f"console: only braid prints {line!r}")
    for line in sorted((theirs - ours).elements()):
        found.append(f"console: only dbt prints {line!r}")
    counts = _less(_done_counts(braid.lines), list(braid.python.values()))
    nonzero = {k: v for k, v in counts.items() if v}
    if nonzero != {k: v for k, v in _done_counts(dbt.lines).items() if v}:
        found.append(f"Done.: dbt {dict(_done_counts(dbt.lines))}, braid less its Python "
                     f"assets {dict(counts)}")
    return found
