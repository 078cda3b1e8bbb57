"""pluggy's markers for braid's hooks (project ``braid``), at the bottom layer.

The hook specifications (:mod:`dbt_braid.hookspecs`) name the run's types (the plan, the
dbt project, the report), so they sit above planning; an implementation needs only the
marker, which lives here so that built-in plugins at any layer (the IO managers sit below
planning) can mark their hooks without importing upward. Plugins outside braid use
``from dbt_braid import hookimpl``, the same object.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("braid")
hookimpl = pluggy.HookimplMarker("braid")
