"""Selection with dbt's syntax over the unified graph, and ``braid ls``.

On projects without Python assets, ``braid ls`` must list exactly what ``dbt ls`` lists for
the same selection (braid prints in dependency order, dbt by unique_id: the lines are
compared as sorted lists). On the integration project, graph operators must walk through
the Python assets and the Python-specific methods must pick them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from helpers import REPO, SOURCE_P_FROM_A, copy_integration_project

sys.path.insert(0, str(REPO / "bench"))
from dbt_braid.core.errors import BraidUserError  # noqa: E402
from dbt_braid.dbtcore.project import DbtOptions  # noqa: E402
from dbt_braid.run import session  # noqa: E402
from dbt_braid.selection.select import SelectionRequest  # noqa: E402
from dbt_braid.view import listing  # noqa: E402
from generate import write_project  # noqa: E402


def _strip_braid(path: Path) -> None:
    """Remove every meta.braid block from a YAML file (a project with no Python assets)."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        return
    holders = list(data.get("exposures") or [])
    for source in data.get("sources") or []:
        holders += list(source.get("tables") or [])
    for item in holders:
        for meta in (item.get("meta"), (item.get("config") or {}).get("meta")):
            if isinstance(meta, dict):
                meta.pop("braid", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _load(root: Path, command: str = "ls") -> session.Loaded:
    return session.load(DbtOptions(project_dir=str(root), profiles_dir=str(root)), command)


@pytest.fixture(scope="module")
def plain_it(tmp_path_factory: pytest.TempPathFactory) -> session.Loaded:
    """The integration project with its Python assets taken out."""
    from dbt.cli.main import dbtRunner

    root = copy_integration_project(tmp_path_factory.mktemp("plain") / "it")
    for yml in (root / "models").rglob("*.yml"):
        _strip_braid(yml)
    done = dbtRunner().invoke(["deps", "--project-dir", str(root), "--profiles-dir", str(root)])
    assert done.success
    loaded = _load(root)
    assert not loaded.assets
    return loaded


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> session.Loaded:
    root = write_project(tmp_path_factory.mktemp("gen") / "gen", models=300, seed=7)
    return _load(root)


@pytest.fixture(scope="module")
def it_project(tmp_path_factory: pytest.TempPathFactory) -> session.Loaded:
    """The integration project as it is, with its Python assets."""
    from dbt.cli.main import dbtRunner

    root = copy_integration_project(tmp_path_factory.mktemp("it") / "it")
    assert dbtRunner().invoke(["deps", "--project-dir", str(root),
                               "--profiles-dir", str(root)]).success
    return _load(root)


def braid_ls(loaded: session.Loaded, output: str = "selector", **request) -> list[str]:
    types = request.pop("resource_types", None) or tuple(listing.DEFAULT_TYPES)
    selection = SelectionRequest(resource_types=types, **request)
    selected, _ = session.select_nodes(loaded, selection)
    chosen = {u for u in selected if loaded.graph.nodes[u]["resource_type"] in set(types)}
    order = listing.dependency_order(loaded.graph, chosen)
    return list(listing.render(order, loaded.graph, loaded.project.manifest, loaded.assets,
                               output))


def dbt_ls(loaded: session.Loaded, args: list[str], output: str = "selector") -> list[str]:
    from dbt.cli.main import dbtRunner

    root = str(loaded.project.project_root)
    result = dbtRunner(manifest=loaded.project.manifest).invoke(
        ["ls", "--project-dir", root, "--profiles-dir", root, "--quiet", "--output", output, *args]
    )
    assert result.success, result.exception
    return list(result.result)


def _request(args: list[str]) -> dict:
    """Turn dbt ls flags into a SelectionRequest's fields."""
    request: dict = {"select": [], "exclude": []}
    key = None
    for arg in args:
        if arg in ("-s", "--select"):
            key = "select"
        elif arg == "--exclude":
            key = "exclude"
        elif arg == "--selector":
            key = "selector"
        elif arg == "--resource-type":
            key = "resource_types"
            request.setdefault("resource_types", [])
        elif key in ("select", "exclude", "resource_types"):
            request[key].append(arg)
        else:
            request[key] = arg
    return request


IT_SELECTIONS = [
    [], ["-s", "stg_orders"], ["-s", "+fct_orders"], ["-s", "fct_orders+"],
    ["-s", "1+fct_orders"], ["-s", "fct_orders+1"], ["-s", "2+forecast_summary"],
    ["-s", "+forecast_summary+"], ["-s", "@stg_orders"], ["-s", "staging"],
    ["-s", "marts.fct_orders"], ["-s", "braid_integration_tests.staging"],
    ["-s", "tag:nightly"], ["-s", "tag:staging", "tag:forecast"], ["-s", "tag:nightly,tag:marts"],
    ["-s", "path:models/staging"], ["-s", "path:models/marts/fct_orders.sql"],
    ["-s", "file:fct_orders.sql"], ["-s", "resource_type:seed"], ["-s", "resource_type:test"],
    ["-s", "source:*"], ["-s", "source:forecasting+"], ["-s", "source:reference.exchange_rates+1"],
    ["-s", "exposure:*"], ["-s", "+exposure:order_forecast_model"],
    ["-s", "package:braid_integration_tests"], ["-s", "config.materialized:view"],
    ["-s", "config.materialized:table,tag:nightly"], ["-s", "test_type:generic"],
    ["-s", "test_name:unique"], ["-s", "fqn:*"], ["-s", "stg_orders stg_customers"],
    ["-s", "+fct_orders,resource_type:model"],
    ["-s", "fct_orders+", "--exclude", "resource_type:test"],
    ["--exclude", "staging"], ["-s", "@fct_orders", "--exclude", "tag:finance"],
    ["--selector", "nightly_marts"], ["--selector", "forecast_chain"],
    ["-s", "+forecast_summary", "--resource-type", "model", "seed"],
    ["-s", "raw_orders+", "--exclude", "fct_orders+1"],
]


@pytest.mark.parametrize("args", IT_SELECTIONS, ids=[" ".join(a) or "all" for a in IT_SELECTIONS])
def test_ls_agrees_with_dbt_on_the_integration_project(plain_it, args) -> None:
    expected = dbt_ls(plain_it, args)
    got = braid_ls(plain_it, **_request(args))
    assert sorted(got) == sorted(expected)
    assert len(got) == len(set(got))


@pytest.mark.parametrize("output", ["name", "path", "json"])
def test_ls_output_formats_agree_with_dbt(plain_it, output) -> None:
    args = ["-s", "+fct_orders+1"]
    expected = dbt_ls(plain_it, args, output)
    got = braid_ls(plain_it, output, **_request(args))
    if output == "json":
        expected = [json.loads(line) for line in expected]
        got = [json.loads(line) for line in got]
        key = lambda d: d["unique_id"]  # noqa: E731
        assert sorted(got, key=key) == sorted(expected, key=key)
    else:
        assert sorted(got) == sorted(expected)


GEN_SELECTIONS = [
    [], ["-s", "m00150"], ["-s", "+m00250"], ["-s", "m00010+"], ["-s", "2+m00200"],
    ["-s", "m00005+1"], ["-s", "@m00100"], ["-s", "layer_2"], ["-s", "gen.layer_3"],
    ["-s", "tag:finance"], ["-s", "tag:core,tag:nightly"], ["-s", "tag:hourly", "tag:marketing"],
    ["-s", "path:models/layer_1"], ["-s", "config.materialized:table"],
    ["-s", "config.materialized:table,layer_4"], ["-s", "resource_type:seed+1"],
    ["-s", "source:raw.*"], ["-s", "exposure:dashboard_0"], ["-s", "+exposure:dashboard_1"],
    ["-s", "resource_type:test,tag:finance"], ["-s", "seed_1+", "--exclude", "layer_3+"],
    ["-s", "layer_0", "layer_5", "--exclude", "tag:core"], ["-s", "file:m00042.sql"],
    ["-s", "m00001+", "--exclude", "resource_type:test"], ["-s", "3+m00299"],
    ["--exclude", "tag:nightly"], ["-s", "package:gen,config.materialized:view"],
    ["-s", "+m00120+"], ["-s", "test_type:generic,layer_2"], ["-s", "m0001*"],
]


@pytest.mark.parametrize("args", GEN_SELECTIONS, ids=[" ".join(a) or "all" for a in GEN_SELECTIONS])
def test_ls_agrees_with_dbt_on_a_generated_project(generated, args) -> None:
    expected = dbt_ls(generated, args)
    got = braid_ls(generated, **_request(args))
    assert sorted(got) == sorted(expected)


# ---- the unified graph: operators walk through Python assets; Python methods pick assets

def names(loaded: session.Loaded, **request) -> set[str]:
    return set(braid_ls(loaded, "name", **request))


def test_parents_walk_up_through_python_into_dbt(it_project) -> None:
    got = names(it_project, select=["+forecast_summary"])
    assert {"python:predicted_orders", "python:order_forecast_model", "fct_daily_orders",
            "stg_orders", "raw_orders", "forecast_summary"} <= got
    assert "python:exchange_rates" not in got and "fct_orders_usd" not in got


def test_children_walk_down_through_python(it_project) -> None:
    got = names(it_project, select=["fct_daily_orders+"])
    assert {"python:order_forecast_model", "python:predicted_orders", "forecast_summary",
            "python:daily_orders_export"} <= got
    one_step = names(it_project, select=["fct_daily_orders+1"])
    assert "python:predicted_orders" in one_step  # it reads fct_daily_orders directly
    assert "forecast_summary" not in one_step
    assert "forecast_summary" in names(it_project, select=["fct_daily_orders+2"])


@pytest.mark.parametrize("selector, expected", [
    (["predicted_orders"], {"python:predicted_orders"}),
    (["python:predicted_orders"], {"python:predicted_orders"}),
    (["source:forecasting.predicted_orders"], {"python:predicted_orders"}),
    (["exposure:order_forecast_model"], {"python:order_forecast_model"}),
    (["tag:ml"], {"python:predicted_orders", "python:order_forecast_model"}),
    (["tag:forecast,resource_type:python"], {"python:predicted_orders"}),
    (["resource_type:python"], {"python:predicted_orders", "python:order_forecast_model",
                                "python:exchange_rates", "python:daily_orders_export",
                                "python:daily_country_sales"}),
    (["path:python_assets/forecast.py"], {"python:predicted_orders",
                                          "python:order_forecast_model"}),
    (["path:python_assets"], {"python:predicted_orders", "python:order_forecast_model",
                              "python:daily_orders_export", "python:daily_country_sales"}),
    (["path:models/finance/reference.yml"], {"python:exchange_rates"}),
    (["package:braid_integration_tests,resource_type:python,tag:ml"],
     {"python:predicted_orders", "python:order_forecast_model"}),
])
def test_python_assets_selected_by_their_methods(it_project, selector, expected) -> None:
    got = names(it_project, select=selector, resource_types=("python",))
    assert got == expected


def test_python_assets_in_selectors_yml(it_project) -> None:
    assert names(it_project, selector="ml", resource_types=("python",)) == {
        "python:predicted_orders", "python:order_forecast_model"}
    # as in dbt, selecting a source selects the tests on it (eager indirect selection)
    assert "source_unique_forecasting_predicted_orders_forecast_date" in names(
        it_project, selector="ml")
    chain = names(it_project, selector="forecast_chain", resource_types=("model", "python"))
    assert chain == {"fct_orders", "fct_daily_orders", "python:order_forecast_model",
                     "python:predicted_orders", "forecast_summary"}


def test_ls_lists_in_dependency_order(it_project) -> None:
    got = braid_ls(it_project, "name", select=["+forecast_summary"],
                   resource_types=("model", "python", "seed"))
    for up, down in [("raw_orders", "stg_orders"),
                     ("fct_daily_orders", "python:order_forecast_model"),
                     ("python:order_forecast_model", "python:predicted_orders"),
                     ("python:predicted_orders", "forecast_summary")]:
        assert got.index(up) < got.index(down)


def test_unknown_method_is_a_user_error(it_project) -> None:
    with pytest.raises(BraidUserError, match="'foo' is not a valid method name"):
        names(it_project, select=["foo:bar"])


def test_unmatched_criteria_are_reported(it_project) -> None:
    selection = SelectionRequest(select=["nope", "stg_orders"])
    selected, unmatched = session.select_nodes(it_project, selection)
    assert unmatched == ["nope"]
    assert "model.braid_integration_tests.stg_orders" in selected


def test_state_method_agrees_with_dbt(tmp_path) -> None:
    """state:modified with --state: dbt compares manifests; braid asks dbt to."""
    import shutil

    from dbt.cli.main import dbtRunner

    root = copy_integration_project(tmp_path / "it")
    for yml in (root / "models").rglob("*.yml"):
        _strip_braid(yml)
    args = ["--project-dir", str(root), "--profiles-dir", str(root)]
    assert dbtRunner().invoke(["deps", *args]).success
    assert dbtRunner().invoke(["parse", *args]).success
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(root / "target" / "manifest.json", state / "manifest.json")
    sql = root / "models" / "marts" / "fct_orders.sql"
    sql.write_text(sql.read_text() + "\n-- changed\n")
    loaded = _load(root)
    for select in (["state:modified"], ["state:modified+"],
                   ["state:modified+,resource_type:model"]):
        flags = ["-s", *select, "--state", str(state)]
        expected = dbt_ls(loaded, flags)
        got = braid_ls(loaded, select=select, state=str(state))
        assert sorted(got) == sorted(expected), select
        assert "braid_integration_tests.marts.fct_orders" in got


def test_result_method_sees_every_batch_of_a_braid_run(make_project) -> None:
    """dbt's target/run_results.json covers all batches, so result: works after braid run."""
    project = make_project({
        "models/bad.sql": "select * from no_such_table",
        "models/a.sql": "select 1 as id",
        "models/b.sql": "select * from {{ source('py', 'p') }}",
        **SOURCE_P_FROM_A,
    })
    assert project.braid("run").returncode == 1  # bad fails in batch 0; b runs in batch 1
    dbt_results = json.loads((project.root / "target" / "run_results.json").read_text())
    assert {r["unique_id"] for r in dbt_results["results"]} == {
        "model.proj.bad", "model.proj.a", "model.proj.b"}
    done = project.braid("ls", "-s", "result:error", "result:success", "--state",
                         str(project.root / "target"), "--output", "name")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(done.stdout.split()) >= {"bad", "a", "b"}
    done = project.braid("ls", "-s", "result:error", "--state", str(project.root / "target"),
                         "--output", "name", "--resource-type", "model")
    assert done.stdout.split()[-1:] == ["bad"]
