"""braid: Python assets declared in dbt YAML, run together with dbt in one command."""

from dbt_braid.core.markers import hookimpl
from dbt_braid.execution.context import AssetContext, RunFlags

__version__ = "0.1.0"

__all__ = ["AssetContext", "RunFlags", "__version__", "hookimpl"]

#: dbt imports every installed ``dbt_*`` module and reads its ``plugins`` list (dbt's own
#: plugin system). braid is not a dbt plugin of that kind: say so explicitly, and never
#: name a submodule ``plugins``.
plugins: list[type] = []
