"""The supported dbt releases braid names agree with its distribution's pin."""

from __future__ import annotations

import re

from dbt_braid.dbtcore import versions
from helpers import REPO


def test_supported_releases_agree_with_the_distribution_pin() -> None:
    text = (REPO / "plugin" / "pyproject.toml").read_text()
    low, high = re.search(r'"dbt-core>=1\.(\d+),<1\.(\d+)"', text).groups()  # type: ignore[union-attr]
    assert tuple((1, m) for m in range(int(low), int(high))) == versions.SUPPORTED_MINORS
