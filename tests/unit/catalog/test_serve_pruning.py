"""braid serve's pruning of old progress files and logs, on files in a temp folder."""

from __future__ import annotations

import os
from pathlib import Path


def test_old_progress_files_and_logs_are_pruned(tmp_path: Path) -> None:
    """A run every minute must not fill the disk: the newest KEEP runs' progress files (and
    braid serve's console logs beside them) stay, older ones go."""
    from dbt_braid.builtins import progress

    for i in range(progress.KEEP + 5):
        made = tmp_path / f"r{i:03d}.jsonl"
        made.write_text("{}\n")
        (tmp_path / f"r{i:03d}.log").write_text("console")
        os.utime(made, (1_000_000 + i, 1_000_000 + i))
    progress._prune(tmp_path)
    kept = sorted(p.stem for p in tmp_path.glob("*.jsonl"))
    assert len(kept) == progress.KEEP and kept[0] == "r005"
    assert sorted(p.stem for p in tmp_path.glob("*.log")) == kept
