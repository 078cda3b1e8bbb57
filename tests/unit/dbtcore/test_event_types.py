"""The Python asset events braid writes are ones this dbt accepts (no run needed)."""

from __future__ import annotations

import re

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_python_asset_events_use_what_this_dbt_accepts() -> None:
    """The events and node_info of node_events against the installed dbt (scripts/test.sh
    runs this on each supported release): the same node_info keys as dbt's own nodes, and
    every field dbt's proto for each event has."""
    from dataclasses import dataclass, field

    from dbt.contracts.graph.nodes import NodeInfoMixin
    from dbt.events import core_types_pb2
    from dbt_braid.core.assets import PythonAsset, Relation
    from dbt_braid.core.loader import FunctionRef
    from dbt_braid.dbtcore import node_events

    @dataclass
    class Node(NodeInfoMixin):
        config: dict = field(default_factory=dict)

    asset = PythonAsset(name="p", unique_id="python.proj.p", package_name="proj",
                        kind="source", declared_by="source.proj.py.p",
                        yaml_file="models/sources.yml", python="p.make",
                        module_file="python_assets/p.py",
                        function_ref=FunctionRef("proj", None, "p", "make"),
                        relation=Relation("wh", "main_py", "p"), code_version="abc")
    info = node_events.node_info(asset, "success", node_events.now(), node_events.now())
    assert set(info) == set(Node().node_info)
    assert set(info["node_relation"]) == set(Node().node_info["node_relation"])
    made = {
        "LogStartLine": node_events.start_event(asset, 1, 2, info),
        "LogModelResult": node_events.result_event(asset, "success", "wrote 1 rows", 1, 2,
                                                   0.5, info),
        "SkippingDetails": node_events.skip_event(asset, 1, 2, info),
    }
    for name, event in made.items():
        assert type(event).__name__ == name
        fields = {f.name for f in getattr(core_types_pb2, name).DESCRIPTOR.fields}
        data = event.to_dict()
        assert set(data) <= fields, (name, set(data) - fields)
        assert data["node_info"]["unique_id"] == "python.proj.p"
        assert data["node_info"]["node_checksum"] == "abc"
    assert made["LogModelResult"].to_dict()["status"] == "wrote 1 rows"
    assert "OK python asset p " in ANSI.sub("", made["LogModelResult"].message())
