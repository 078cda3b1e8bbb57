"""The seed scenario end to end: integration_tests/ run by the real ``braid run``.

Every test runs twice, once per target of the project's profiles.yml: ``duckdb`` (a DuckDB
file) and ``postgres`` (a fresh database on the tests' PostgreSQL server, tests/pgserver.py),
with the same assertions. The project is copied into a temp folder (tests never write into
the checkout) and used there as a user would: its own profiles.yml, the default pickle
store in .braid/.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest
from helpers import BRAID, REPO, copy_integration_project, pg_rows

IT = REPO / "integration_tests"  # read only: the data files
SCHEMAS = REPO / "plugin" / "src" / "dbt_braid" / "schemas"
PKG = "braid_integration_tests"


class IntegrationProject:
    def __init__(self, tmp: Path, target: str, pg: Any = None) -> None:
        self.tmp = tmp
        self.target = target
        self.pg = pg
        self.root = copy_integration_project(tmp / "it")
        self.db = tmp / "it.duckdb"
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "BRAID_STORE_DIR"},
            "BRAID_DUCKDB_PATH": str(self.db),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        if target == "postgres":
            self.database = pg.create_database(f"it_{uuid.uuid4().hex[:8]}")
            self.env.update(pg.env(self.database))
            self.schema = "braid_it"
        else:
            self.database = self.db.stem
            self.schema = "main"

    def braid(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [BRAID, *args, "--profiles-dir", str(self.root), "--target", self.target],
            cwd=self.root, env=self.env, capture_output=True, text=True, timeout=600)

    def sql(self, query: str) -> list[tuple]:
        if self.target == "postgres":
            return pg_rows(self.pg, self.database, query)
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()

    def model(self, name: str) -> str:
        """A model's relation, as SQL."""
        return f"{self.schema}.{name}"

    def source(self, source: str, name: str) -> str:
        """A source table's relation (a Python asset's output), as SQL: the project gives
        its sources a per-target schema, ``<target schema>_<source>``."""
        return f"{self.database}.{self.schema}_{source}.{name}"

    @property
    def store(self) -> Path:
        """Where the pickle IO manager keeps this target's values."""
        return self.root / ".braid" / "store" / self.target / PKG

    def run_results(self) -> dict:
        return json.loads((self.root / "target" / "braid" / "run_results.json").read_text())

    def lineage(self) -> dict:
        return json.loads((self.root / "target" / "braid" / "lineage.json").read_text())


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def it(request, tmp_path_factory: pytest.TempPathFactory) -> IntegrationProject:
    pg = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    project = IntegrationProject(tmp_path_factory.mktemp("it"), request.param, pg)
    for command in (("deps",), ("seed",)):
        done = project.braid(*command)
        assert done.returncode == 0, done.stdout + done.stderr
    return project


@pytest.fixture(scope="module")
def full_run(it: IntegrationProject) -> tuple[subprocess.CompletedProcess[str], dict]:
    done = it.braid("run")
    assert done.returncode == 0, done.stdout + done.stderr
    return done, it.run_results()


def by_name(results: dict) -> dict[str, dict]:
    return {r["name"]: r for r in results["results"]}


def test_seed_scenario_runs_in_two_dbt_invocations(full_run) -> None:
    _, results = full_run
    rows = by_name(results)
    assert results["invocations"] == 2
    assert {r["status"] for r in results["results"]} == {"success"}
    for model in ("stg_customers", "stg_orders", "fct_orders", "fct_daily_orders"):
        assert rows[model]["invocation"] == 0, model
    assert rows["forecast_summary"]["invocation"] == 1
    # fct_orders_usd waits for the exchange-rate loader and feeds no Python, so it goes to
    # the second batch and the loader runs while the first batch does
    assert rows["fct_orders_usd"]["invocation"] == 1
    assert rows["exchange_rates"]["started_at"] < rows["stg_customers"]["completed_at"]
    for asset in ("order_forecast_model", "predicted_orders", "exchange_rates",
                  "daily_orders_export"):
        assert rows[asset]["resource_type"] == "python"
        assert rows[asset]["invocation"] is None
        assert rows[asset]["unique_id"] == f"python.{PKG}.{asset}"
    assert rows["predicted_orders"]["rows_written"] == 30
    assert rows["exchange_rates"]["rows_written"] == 5
    # the partitioned asset: a window a month from its begin to now, then dbt's microbatch
    # model over it in the second invocation
    from datetime import datetime, timezone

    today = datetime.now(timezone.utc)
    months = (today.year - 2024) * 12 + today.month
    sales = rows["daily_country_sales"]
    assert [w["key"] for w in sales["windows"]][:2] == ["2024-01", "2024-02"]
    assert len(sales["windows"]) in (months, months + 1)  # a month may turn mid-run
    assert {w["status"] for w in sales["windows"]} == {"success"}
    assert rows["country_sales"]["invocation"] == 1


def test_results_are_in_dependency_order(full_run) -> None:
    _, results = full_run
    order = [r["name"] for r in results["results"]]
    for up, down in [("fct_daily_orders", "order_forecast_model"),
                     ("order_forecast_model", "predicted_orders"),
                     ("predicted_orders", "forecast_summary"),
                     ("forecast_summary", "daily_orders_export"),
                     ("exchange_rates", "fct_orders_usd")]:
        assert order.index(up) < order.index(down)
    started = {r["name"]: r["started_at"] for r in results["results"]}
    finished = {r["name"]: r["completed_at"] for r in results["results"]}
    assert finished["fct_daily_orders"] <= started["order_forecast_model"]
    assert finished["predicted_orders"] <= started["forecast_summary"]


def test_predictions_table_contents(it, full_run) -> None:
    (last_day,) = it.sql(f"select max(order_date) from {it.model('fct_daily_orders')}")[0]
    rows = it.sql(f"select forecast_date, predicted_orders, predicted_revenue "
                  f"from {it.source('forecasting', 'predicted_orders')} order by 1")
    assert len(rows) == 30
    last_day = last_day.date() if hasattr(last_day, "date") else last_day
    assert [r[0] for r in rows] == [last_day + timedelta(days=i + 1) for i in range(30)]
    assert all(isinstance(r[0], date) for r in rows)
    assert all(r[1] >= 0 and r[2] >= 0 for r in rows)
    # the trend is real: predictions sit near recent daily order counts
    daily = it.model("fct_daily_orders")
    (recent,) = it.sql(f"select avg(n_orders) from {daily} where order_date > "
                       f"(select max(order_date) - interval '60 days' from {daily})")[0]
    mean_pred = sum(r[1] for r in rows) / 30
    assert 0.5 * float(recent) < mean_pred < 1.5 * float(recent)


def test_dbt_model_downstream_of_predictions(it, full_run) -> None:
    weeks = it.sql(f"select forecast_days, predicted_orders, predicted_revenue "
                   f"from {it.model('forecast_summary')} order by week_start")
    assert sum(w[0] for w in weeks) == 30
    (total_orders, total_revenue) = it.sql(
        f"select sum(predicted_orders), sum(predicted_revenue) "
        f"from {it.source('forecasting', 'predicted_orders')}")[0]
    assert float(sum(w[1] for w in weeks)) == pytest.approx(total_orders, abs=0.5)
    assert float(sum(w[2] for w in weeks)) == pytest.approx(total_revenue, abs=1.0)


def test_independent_python_branch_feeds_dbt(it, full_run) -> None:
    (n, missing, wrong) = it.sql(
        "select count(*), count(*) filter (where rate_to_usd is null), count(*) filter "
        "(where abs(amount_usd - round(cast(amount * rate_to_usd as numeric), 2)) > 0.01) "
        f"from {it.model('fct_orders_usd')}")[0]
    (orders,) = it.sql(f"select count(*) from {it.model('fct_orders')}")[0]
    assert n == orders > 1000
    assert missing == 0 and wrong == 0
    rates = dict(it.sql(
        f"select currency, rate_to_usd from {it.source('reference', 'exchange_rates')}"))
    with (IT / "data" / "exchange_rates.csv").open() as fh:
        expected = {row["currency"]: float(row["rate_to_usd"]) for row in csv.DictReader(fh)}
    assert rates == expected


def test_exposure_assets_store_and_export(it, full_run) -> None:
    model_file = it.store / "order_forecast_model.pkl"
    assert model_file.stat().st_size > 0
    export = it.root / "target" / "exports" / "forecast_summary.csv"
    with export.open() as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == it.sql(f"select count(*) from {it.model('forecast_summary')}")[0][0]


def test_run_results_match_schema(full_run) -> None:
    _, results = full_run
    schema = json.loads((SCHEMAS / "run_results.schema.json").read_text())
    jsonschema.validate(results, schema)
    # 7 models and 5 Python assets (the seeds are `braid seed`'s)
    assert len(results["results"]) == 12


def test_lineage_unifies_both_kinds(it, full_run) -> None:
    lineage = it.lineage()
    schema = json.loads((SCHEMAS / "lineage.schema.json").read_text())
    jsonschema.validate(lineage, schema)
    nodes = {n["unique_id"]: n for n in lineage["nodes"]}
    edges = {(e["from"], e["to"]) for e in lineage["edges"]}
    asset = f"python.{PKG}.predicted_orders"
    # the source that declares the asset is not a second node; the asset carries its relation
    assert f"source.{PKG}.forecasting.predicted_orders" not in nodes
    assert f"exposure.{PKG}.order_forecast_model" not in nodes
    assert nodes[asset]["relation"] == it.source("forecasting", "predicted_orders")
    assert nodes[asset]["declared_by"] == f"source.{PKG}.forecasting.predicted_orders"
    chain = [f"model.{PKG}.fct_daily_orders", f"python.{PKG}.order_forecast_model", asset,
             f"model.{PKG}.forecast_summary", f"python.{PKG}.daily_orders_export"]
    for up, down in zip(chain, chain[1:], strict=False):
        assert (up, down) in edges, (up, down)
    assert (f"model.{PKG}.fct_daily_orders", asset) in edges
    assert (f"python.{PKG}.exchange_rates", f"model.{PKG}.fct_orders_usd") in edges
    assert all(e[0] in nodes and e[1] in nodes for e in edges)


def test_status_is_fresh_after_a_full_run(it, full_run) -> None:
    # before the tests below run parts of the project out of order (so no second full run)
    done = it.braid("status", "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    states = {d["name"]: d["state"] for d in map(json.loads, done.stdout.splitlines())}
    assert states["predicted_orders"] == states["fct_orders_usd"] == "fresh"
    assert set(states.values()) == {"fresh"}


def test_select_plain_names_runs_only_those(it, full_run) -> None:
    done = it.braid("run", "-s", "forecast_summary", "predicted_orders")
    assert done.returncode == 0, done.stdout + done.stderr
    results = it.run_results()
    assert sorted(r["name"] for r in results["results"]) == ["forecast_summary", "predicted_orders"]
    assert results["invocations"] == 1


def test_exclude_and_graph_operator(it, full_run) -> None:
    done = it.braid("run", "-s", "+forecast_summary", "--exclude", "stg_customers")
    assert done.returncode == 0, done.stdout + done.stderr
    names = {r["name"] for r in it.run_results()["results"]}
    assert names == {"stg_orders", "fct_orders", "fct_daily_orders", "order_forecast_model",
                     "predicted_orders", "forecast_summary"}


def test_pickle_store_survives_dbt_clean(it, full_run) -> None:
    assert it.braid("clean").returncode == 0
    assert not (it.root / "target").exists()
    assert (it.store / "order_forecast_model.pkl").exists()
    assert it.braid("deps").returncode == 0  # clean removed dbt_packages/ too
    done = it.braid("run", "-s", "predicted_orders")
    assert done.returncode == 0, done.stdout + done.stderr
    assert by_name(it.run_results())["predicted_orders"]["status"] == "success"


def test_demo_output_is_one_dbt_run(full_run) -> None:
    """The demo's console: one header, one summary, agreeing with braid's results (plus the
    project's on-run-end hook, which dbt counts)."""
    done, results = full_run
    assert done.stdout.count("Running with dbt=") == 1, done.stdout
    (summary,) = re.findall(r"Done\. PASS=(\d+) .*TOTAL=(\d+)", done.stdout)
    hooks = re.findall(r"OK hook: ", done.stdout)
    assert len(hooks) == 1, done.stdout
    assert summary == (str(len(results["results"]) + len(hooks)),) * 2, done.stdout


def test_history_records_every_node_of_the_run(it, full_run) -> None:
    _, results = full_run
    run_id = results["run_id"]
    recorded = dict(it.sql(f"select unique_id, status from {it.model('braid_node_runs')} "
                           f"where run_id = '{run_id}'"))
    assert recorded == {r["unique_id"]: r["status"] for r in results["results"]}
    (command, status) = it.sql(f"select command, status from {it.model('braid_runs')} "
                               f"where run_id = '{run_id}'")[0]
    assert (command, status) == ("braid run", "success")
    done = it.braid("history", "-s", "predicted_orders", "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert run_id in {r["run_id"] for r in rows}
    assert {r["name"] for r in rows} == {"predicted_orders"}


def test_failed_loader_keeps_its_table_and_retry_finishes_the_run(it, full_run) -> None:
    rates_file = it.root / "data" / "exchange_rates.csv"
    rates = it.source("reference", "exchange_rates")
    before = sorted(it.sql(f"select currency, rate_to_usd from {rates}"))
    kept = rates_file.read_text()
    rates_file.unlink()
    try:
        done = it.braid("run", "-s", "exchange_rates+")
        assert done.returncode == 1, done.stdout + done.stderr
        statuses = {r["name"]: r["status"] for r in it.run_results()["results"]}
        assert statuses == {"exchange_rates": "error", "fct_orders_usd": "skipped"}
        assert sorted(it.sql(f"select currency, rate_to_usd from {rates}")) == before
    finally:
        rates_file.write_text(kept)
    done = it.braid("retry")
    assert done.returncode == 0, done.stdout + done.stderr
    retried = it.run_results()
    assert retried["command"] == "retry"
    assert {r["name"]: r["status"] for r in retried["results"]} == {
        "exchange_rates": "success", "fct_orders_usd": "success"}
    assert "Nothing to retry" in it.braid("retry").stdout


def test_plain_dbt_run_records_history_through_on_run_end(it, full_run) -> None:
    dbt = str(Path(BRAID).with_name("dbt"))
    done = subprocess.run([dbt, "run", "-s", "stg_customers", "--profiles-dir", str(it.root),
                           "--target", it.target], cwd=it.root, env=it.env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = it.sql(f"select run_id, command, status from {it.model('braid_runs')} "
                  "where command = 'dbt run'")
    assert len(runs) == 1 and runs[0][2] == "success"
    nodes = it.sql(f"select unique_id, status from {it.model('braid_node_runs')} "
                   f"where run_id = '{runs[0][0]}'")
    assert nodes == [(f"model.{PKG}.stg_customers", "success")]


def test_partitioned_asset_rerun_of_one_month_keeps_one_copy(it, full_run) -> None:
    """Issue 17: the full run computed every month from begin (a backfill); one month again,
    with --event-time-start/-end reaching dbt's microbatch model in the same run, leaves
    exactly one row per day and country in both tables, every order counted once."""
    done = it.braid("run", "-s", "daily_country_sales", "country_sales",
                    "--event-time-start", "2024-02-01", "--event-time-end", "2024-03-01")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = by_name(it.run_results())
    assert [w["key"] for w in rows["daily_country_sales"]["windows"]] == ["2024-02"]
    assert rows["country_sales"]["status"] == "success"
    expected = it.sql(f"select order_date, country, count(*) from {it.model('fct_orders')} "
                      "group by 1, 2 order by 1, 2")
    assert len(expected) > 300
    for table in (it.source("sales", "daily_country_sales"), it.model("country_sales")):
        assert it.sql(f"select order_date, country, n_orders from {table} order by 1, 2"
                      ) == expected, table
    # each month's shares were computed over that whole month (the window), not a day
    shares = it.sql("select extract(month from order_date), country, sum(share_of_month) "
                    f"from {it.source('sales', 'daily_country_sales')} group by 1, 2")
    assert {round(float(s), 6) for _, _, s in shares} == {1.0}
