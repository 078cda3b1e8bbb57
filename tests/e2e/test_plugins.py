"""Built-in behaviour is pluggy plugins (hooks: test_plugin_hooks.py; entry points:
test_plugin_loading.py)."""

from __future__ import annotations

JSONL_EXPOSURE = {
    "models/m.sql": "select 1 as id",
    "models/exposures.yml": """
        version: 2
        exposures:
          - name: ids
            type: analysis
            owner: {name: me}
            config: {meta: {braid: {python: ids.collect, io: jsonl}}}
        """,
    "python_assets/ids.py": "def collect():\n    return []\n",
}


def test_without_the_plugin_its_io_name_is_a_declaration_error(make_project) -> None:
    project = make_project(JSONL_EXPOSURE)
    done = project.braid("run")
    assert done.returncode == 2
    assert "meta.braid.io: unknown IO manager 'jsonl'" in done.stderr
