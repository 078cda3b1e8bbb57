"""The catalog page in Chromium: load time of a 1,000-node page against a 12-node one.

Goal (issue 15): a 1,000-node catalog loads in under 2 s. Each round opens both pages in
one headless Chromium (Debian's chromium and chromium-driver), alternating, and reads the
Navigation Timing's ``loadEventEnd`` (navigation start to the end of the load event, which
includes drawing the graph: the page's script runs before it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from common import alternate, describe_machine, median  # noqa: E402
from dbt_braid.catalog import model, page  # noqa: E402
from graphs import synthetic_payload  # noqa: E402


def write(folder: Path, n: int) -> Path:
    payload = synthetic_payload(n)
    history = [{"run_id": f"r{i}", "unique_id": node["unique_id"], "status": "success",
                "started_at": f"2026-11-0{1 + i} 10:00:00",
                "completed_at": f"2026-11-0{1 + i} 10:00:0{i}",
                "rows_written": 100 * i} for node in payload["nodes"] for i in range(1, 6)]
    data = model.catalog_data(title=f"{n} nodes", nodes=payload["nodes"],
                              edges=[(e["from"], e["to"]) for e in payload["edges"]],
                              statuses={}, history=history)
    path = folder / f"catalog-{n}.html"
    path.write_text(page.to_html(data))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1600,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                              options=options)
    try:
        with tempfile.TemporaryDirectory() as folder:
            pages = {"12 nodes": write(Path(folder), 12),
                     f"{args.nodes} nodes": write(Path(folder), args.nodes)}

            def load(path: Path) -> float:
                driver.get("about:blank")
                driver.get(path.as_uri())
                ms = driver.execute_script(
                    "return performance.getEntriesByType('navigation')[0].loadEventEnd;")
                assert driver.execute_script("return document.body.dataset.ready") == "true"
                return float(ms) / 1000

            times = alternate({name: (lambda p=p: load(p)) for name, p in pages.items()},
                              args.rounds)
            sizes = {name: p.stat().st_size for name, p in pages.items()}
    finally:
        driver.quit()
    print(describe_machine())
    small, big = (median(t) for t in times.values())
    for (name, values), size in zip(times.items(), sizes.values(), strict=True):
        print(f"{name}: load median {median(values):.3f} s ({size / 1e6:.1f} MB; all "
              f"{[round(v, 3) for v in values]})")
    print(f"{args.nodes} nodes / 12 nodes = {big / small:.2f}; goal: {args.nodes} nodes "
          f"under 2 s: {'met' if big < 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
