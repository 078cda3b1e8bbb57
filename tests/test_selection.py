"""Selection over a hand-built unified graph: dbt's syntax, walking through Python assets."""

from __future__ import annotations

import networkx as nx
import pytest
from dbt_braid.errors import BraidUserError
from dbt_braid.planning import make_plan
from dbt_braid.selection import select, select_token
from graphs import add_dbt, add_py

# The graph, upstream to downstream:
#
#   seed raw_orders ---> stg_orders ---+--> fct_orders --+--> python:train --> python:predict
#   source shop.orders -^              |                 |                      |
#                         stg_customers+                 +--------------------->+
#                                                        +--> test not_null_fct_orders_id
#   python:predict --> forecast_summary --> python:write_csv
#                                      \--> exposure dashboard
#   python:load_weather --> weather_daily
#   pkg: pkg_stg --> pkg_mart
#   python:predicted_returns (a Python asset in place of a source; fqn under "staging")
G = nx.DiGraph()
RAW = add_dbt(G, "raw_orders", "seed")
SRC = add_dbt(G, "orders", "source", folder=("staging", "shop"), uid="source.proj.shop.orders")
STG_O = add_dbt(G, "stg_orders", folder=("staging",))
STG_C = add_dbt(G, "stg_customers", folder=("staging",))
FCT = add_dbt(G, "fct_orders", folder=("marts",))
TEST = add_dbt(G, "not_null_fct_orders_id", "test", folder=("marts",))
TRAIN = add_py(G, "train")
PREDICT = add_py(G, "predict")
SUMMARY = add_dbt(G, "forecast_summary", folder=("forecasting",))
EXPORT = add_py(G, "write_csv")
DASH = add_dbt(G, "dashboard", "exposure")
LOADER = add_py(G, "load_weather")
WEATHER = add_dbt(G, "weather_daily", folder=("staging",))
PKG_STG = add_dbt(G, "pkg_stg", package="pkg", folder=("staging",))
PKG_MART = add_dbt(G, "pkg_mart", package="pkg", folder=("marts",))
G.add_edges_from(
    [
        (RAW, STG_O),
        (SRC, STG_O),
        (STG_O, FCT),
        (STG_C, FCT),
        (FCT, TEST),
        (FCT, TRAIN),
        (FCT, PREDICT),
        (TRAIN, PREDICT),
        (PREDICT, SUMMARY),
        (SUMMARY, EXPORT),
        (SUMMARY, DASH),
        (LOADER, WEATHER),
        (PKG_STG, PKG_MART),
    ]
)
PYTHON = {TRAIN, PREDICT, EXPORT, LOADER}


def sel(*values: str, exclude: tuple[str, ...] = ()) -> set[str]:
    chosen, unmatched = select(G, list(values), list(exclude))
    assert unmatched == [], unmatched
    return chosen


# ----------------------------------------------------------------------------- names


def test_no_selector_selects_everything() -> None:
    assert select(G) == (set(G), [])
    assert select(G, [], []) == (set(G), [])


def test_model_by_name() -> None:
    assert sel("fct_orders") == {FCT}


def test_python_asset_by_name() -> None:
    assert sel("train") == {TRAIN}


def test_python_prefix() -> None:
    assert sel("python:predict") == {PREDICT}
    chosen, unmatched = select(G, ["python:fct_orders"])
    assert chosen == set() and unmatched == ["python:fct_orders"]


def test_resource_type_python() -> None:
    assert sel("resource_type:python") == PYTHON


def test_fqn_folder_in_any_package() -> None:
    assert sel("staging") == {STG_O, STG_C, WEATHER, PKG_STG}
    assert sel("marts") == {FCT, TEST, PKG_MART}


def test_fqn_with_package() -> None:
    assert sel("pkg.staging") == {PKG_STG}
    assert sel("proj.staging") == {STG_O, STG_C, WEATHER}
    assert sel("proj.marts.fct_orders") == {FCT}
    assert sel("pkg") == {PKG_STG, PKG_MART}


def test_python_asset_by_fqn() -> None:
    assert sel("proj.train") == {TRAIN}


def test_source_is_not_selected_by_name_or_folder() -> None:
    # as in dbt, a source takes `source:`; a bare name or fqn never matches it
    chosen, unmatched = select(G, ["orders"])
    assert chosen == set() and unmatched == ["orders"]
    assert SRC not in sel("staging")
    assert SRC not in sel("proj.staging")


def test_python_asset_in_place_of_a_source_is_selected_by_name() -> None:
    g = nx.DiGraph()
    stg = add_dbt(g, "stg", folder=("staging",))
    py = add_py(g, "predicted_orders")
    g.add_edge(stg, py)
    assert select(g, ["predicted_orders"]) == ({py}, [])
    assert select(g, ["python:predicted_orders"]) == ({py}, [])


# ------------------------------------------------------------------------- operators


def test_all_ancestors_walk_through_python() -> None:
    assert sel("+forecast_summary") == {SUMMARY, PREDICT, TRAIN, FCT, STG_O, STG_C, RAW, SRC}
    assert sel("+write_csv") == {EXPORT, SUMMARY, PREDICT, TRAIN, FCT, STG_O, STG_C, RAW, SRC}
    assert sel("+weather_daily") == {WEATHER, LOADER}


def test_all_descendants_walk_through_python() -> None:
    assert sel("fct_orders+") == {FCT, TEST, TRAIN, PREDICT, SUMMARY, EXPORT, DASH}
    assert sel("train+") == {TRAIN, PREDICT, SUMMARY, EXPORT, DASH}
    assert sel("load_weather+") == {LOADER, WEATHER}


def test_both_sides() -> None:
    assert sel("+predict+") == {PREDICT, TRAIN, FCT, STG_O, STG_C, RAW, SRC, SUMMARY, EXPORT, DASH}


def test_depth_limited_ancestors() -> None:
    assert sel("1+forecast_summary") == {SUMMARY, PREDICT}
    assert sel("2+forecast_summary") == {SUMMARY, PREDICT, TRAIN, FCT}
    assert sel("3+forecast_summary") == {SUMMARY, PREDICT, TRAIN, FCT, STG_O, STG_C}


def test_depth_limited_descendants() -> None:
    assert sel("fct_orders+1") == {FCT, TEST, TRAIN, PREDICT}
    assert sel("train+1") == {TRAIN, PREDICT}
    assert sel("train+2") == {TRAIN, PREDICT, SUMMARY}
    assert sel("fct_orders+0") == {FCT}


def test_at_operator() -> None:
    # train, its descendants, and every ancestor of those descendants
    assert sel("@train") == {
        TRAIN,
        PREDICT,
        SUMMARY,
        EXPORT,
        DASH,
        FCT,
        STG_O,
        STG_C,
        RAW,
        SRC,
    }
    assert sel("@load_weather") == {LOADER, WEATHER}
    assert sel("@stg_customers") == sel("@fct_orders") | {STG_C}


def test_operators_apply_to_every_node_matched() -> None:
    assert sel("pkg.staging+") == {PKG_STG, PKG_MART}
    assert sel("resource_type:python+1") == PYTHON | {WEATHER, SUMMARY}


# --------------------------------------------------------------- union, intersection


def test_union_by_space_and_by_repeated_flags() -> None:
    assert sel("fct_orders weather_daily") == {FCT, WEATHER}
    assert sel("fct_orders", "weather_daily train") == {FCT, WEATHER, TRAIN}
    assert sel("  fct_orders   train ") == {FCT, TRAIN}


def test_intersection_by_comma() -> None:
    assert sel("staging,+fct_orders") == {STG_O, STG_C}
    assert sel("resource_type:python,fct_orders+") == {TRAIN, PREDICT, EXPORT}
    assert sel("+forecast_summary,proj.marts") == {FCT}


def test_intersection_and_union_together() -> None:
    assert sel("staging,+fct_orders weather_daily") == {STG_O, STG_C, WEATHER}


# ----------------------------------------------------------------------------- exclude


def test_exclude() -> None:
    assert sel("+forecast_summary", exclude=("staging",)) == {
        SUMMARY,
        PREDICT,
        TRAIN,
        FCT,
        RAW,
        SRC,
    }
    assert sel("fct_orders+", exclude=("resource_type:python",)) == {FCT, TEST, SUMMARY, DASH}
    assert sel("fct_orders+", exclude=("train+",)) == {FCT, TEST}


def test_exclude_without_select_starts_from_everything() -> None:
    assert sel(exclude=("pkg", "resource_type:python")) == set(G) - {PKG_STG, PKG_MART} - PYTHON


def test_exclude_with_intersection() -> None:
    assert sel("staging", exclude=("staging,+fct_orders",)) == {WEATHER, PKG_STG}


# --------------------------------------------------------------------------- problems


def test_unmatched_selectors_are_reported() -> None:
    chosen, unmatched = select(G, ["fct_orders nope", "+missing"], ["gone"])
    assert chosen == {FCT}
    assert unmatched == ["nope", "+missing", "gone"]


def test_empty_intersection_is_reported_whole() -> None:
    chosen, unmatched = select(G, ["staging,resource_type:python"])
    assert chosen == set()
    assert unmatched == ["staging,resource_type:python"]


def test_unreadable_selector_is_a_user_error() -> None:
    for bad in ("+", "@", "a+b+c+", "fct_orders++"):
        with pytest.raises(BraidUserError):
            select_token(G, bad)
    with pytest.raises(BraidUserError):
        select(G, ["fct_orders,"])


# ------------------------------------------------------------------ selection -> plan


def test_plus_forecast_summary_plans_two_batches() -> None:
    chosen = sel("+forecast_summary")
    plan = make_plan(G, chosen)
    assert [set(b.nodes) for b in plan.batches] == [{STG_O, STG_C, FCT}, {SUMMARY}]
    assert {s.unique_id: s.stage for s in plan.python} == {TRAIN: 1, PREDICT: 1}


def test_python_selected_alone_plans_no_batch() -> None:
    plan = make_plan(G, sel("python:predict"))
    assert plan.batches == ()
    assert [s.unique_id for s in plan.python] == [PREDICT]
    assert plan.python[0].needs == frozenset()
