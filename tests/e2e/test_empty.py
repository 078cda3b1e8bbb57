"""dbt's ``--empty`` ("check the shapes, move no data") with Python assets in the graph: a
source-table asset writes an empty table of its source's declared columns without running,
an exposure asset does not run (``no-op``), and an asset whose source declares no typed
columns is refused before anything runs."""

from __future__ import annotations

import pytest
from helpers import SOURCE_P_FROM_A, source_p_yaml
from test_integration_project import IntegrationProject


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_build_empty_passes_on_the_integration_project(target, tmp_path, request) -> None:
    pg = request.getfixturevalue("pg_server") if target == "postgres" else None
    it = IntegrationProject(tmp_path, target, pg)
    assert it.braid("deps").returncode == 0
    done = it.braid("build", "--empty")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {r["name"]: r for r in it.run_results()["results"]}
    # no model was trained (the exposure did not run), yet the predictions table has its
    # declared shape: predict was never called
    assert rows["order_forecast_model"]["status"] == "no-op"
    assert "--empty" in rows["order_forecast_model"]["message"]
    assert not (it.store / "order_forecast_model.pkl").exists()
    assert rows["predicted_orders"]["status"] == "success"
    assert rows["predicted_orders"]["rows_written"] == 0
    predicted = it.source("forecasting", "predicted_orders")
    assert it.sql(f"select count(*) from {predicted}") == [(0,)]
    columns = it.sql("select column_name, lower(data_type) from information_schema.columns "
                     "where table_name = 'predicted_orders' order by ordinal_position")
    double = "double" if target == "duckdb" else "double precision"
    assert columns == [("forecast_date", "date"), ("predicted_orders", double),
                       ("predicted_revenue", double)]
    assert rows["forecast_summary"]["status"] == "success"  # dbt read the empty source
    assert rows["daily_orders_export"]["status"] == "no-op"
    # the source's own data tests ran on the empty table, after it was written
    source_tests = [r for r in rows.values() if r["resource_type"] == "test"
                    and "forecasting_predicted_orders" in r["name"]]
    assert source_tests and {r["status"] for r in source_tests} == {"pass"}


def test_empty_refuses_a_source_asset_without_typed_columns(make_project) -> None:
    project = make_project({
        "models/a.sql": "{{ config(materialized='table') }} select 1 as id",
        **SOURCE_P_FROM_A,
        "models/sources.yml": source_p_yaml(
            table="columns: [{name: id, data_type: integer}, {name: note}]"),
    })
    done = project.braid("run", "--empty")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("models/sources.yml: source py.p: columns: --empty")
    assert "data_type" in line
    assert project.tables() == set()  # nothing ran
