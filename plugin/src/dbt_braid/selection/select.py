"""Selection with dbt's own syntax over the unified graph.

dbt's ``NodeSelector`` does the work: it parses ``-s``/``--exclude``/``--selector`` and
evaluates every method it knows (``tag:``, ``path:``, ``config.``, ``source:``, ``state:``,
``result:`` ...) against the manifest braid already parsed, and its graph operators walk
``dbt_view``, the unified graph in which a Python asset keeps the unique_id of the source or
exposure that declares it. So ``source:forecasting.predicted_orders`` selects the asset, and
``+forecast_summary`` walks up through the Python assets into the models that feed them.

braid adds what dbt cannot know about Python assets (:meth:`BraidSelector.select_included`):
the bare name, ``tag:`` (tags in ``meta.braid`` too), ``path:`` (the module in
``python_assets/`` too), ``package:``, ``resource_type:python``, and for ``state:modified``
(and ``modified.body``, ``unmodified``) a changed code version against the one the
``--state`` manifest recorded (:mod:`dbt_braid.dbtcore.code_versions`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path
from typing import Any

from dbt.contracts.state import PreviousState
from dbt.exceptions import DbtRuntimeError
from dbt.graph import Graph, NodeSelector, UniqueId
from dbt.graph.cli import parse_difference
from dbt.graph.selector_methods import MethodName, QualifiedNameSelectorMethod
from dbt.graph.selector_spec import SelectionCriteria, SelectionSpec
from dbt_common.events.contextvars import task_contextvars

from dbt_braid.core.assets import PythonAsset
from dbt_braid.core.errors import BraidUserError
from dbt_braid.dbtcore.code_versions import code_changed
from dbt_braid.dbtcore.versions import node_selector_kwargs
from dbt_braid.graph.unified import UnifiedGraph

PYTHON_TYPE = "python"
#: the state: values under which a Python asset whose code changed counts as modified
_MODIFIED = frozenset({"modified", "modified.body"})


def _python_match(asset: PythonAsset, spec: SelectionCriteria, root: Path) -> bool:
    method, value = spec.method, spec.value
    if method == MethodName.FQN:
        # only the asset's own name (or package.name): dbt's fqn method never selects a
        # source by its folder, and neither does braid select the asset standing in for one
        if asset.name == value:
            return True
        fqn_ = [asset.package_name, asset.name]
        return QualifiedNameSelectorMethod.node_is_match(None, value, fqn_, False)  # type: ignore[arg-type]
    if method == MethodName.Tag:
        return any(fnmatch(tag, value) for tag in asset.tags)
    if method == MethodName.Package:
        return fnmatch(asset.package_name, value)
    if method == MethodName.ResourceType:
        return value == PYTHON_TYPE
    if method == MethodName.Path:
        paths = _globbed(root, value)
        module = Path(asset.module_file)
        return module in paths or any(parent in paths for parent in module.parents)
    if method == MethodName.File:
        module = Path(asset.module_file)
        return fnmatch(module.name, value) or fnmatch(module.stem, value)
    return False


@lru_cache(maxsize=64)
def _globbed(root: Path, pattern: str) -> frozenset[Path]:
    """``path:`` globs once per pattern, not once per asset (a ``**`` glob walks the project)."""
    return frozenset(p.relative_to(root) for p in root.glob(pattern))


class BraidSelector(NodeSelector):
    """dbt's node selector, taught where Python assets stand in for sources and exposures."""

    def __init__(
        self,
        unified: UnifiedGraph,
        manifest: Any,
        assets: Mapping[str, PythonAsset],
        root: Path,
        previous_state: PreviousState | None = None,
        states: Mapping[str, str] | None = None,
        selectors: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            Graph(unified.dbt_view), manifest, previous_state, **node_selector_kwargs(selectors)
        )
        #: dbt_view unique_id -> "fresh" | "stale", for the status: method
        self.states = dict(states or {})
        #: declaring unique_id -> the asset standing in for it
        self.python: dict[str, PythonAsset] = {a.declared_by: a for a in assets.values()}
        self.root = root
        self.unmatched: list[str] = []

    def select_included(
        self, included_nodes: set[UniqueId], spec: SelectionCriteria
    ) -> set[UniqueId]:
        found = {
            UniqueId(uid)
            for uid, asset in self.python.items()
            if uid in included_nodes and _python_match(asset, spec, self.root)
        }
        if spec.method == MethodName.ResourceType and spec.value == PYTHON_TYPE:
            return found
        if spec.method == MethodName.Config and list(spec.method_arguments) == [PYTHON_KEY]:
            return {
                UniqueId(u)
                for u, asset in self.python.items()
                if fnmatch(asset.name, spec.value) and u in included_nodes
            }
        if spec.method == MethodName.State:
            return self._state(included_nodes, spec)
        if spec.method == MethodName.Config and list(spec.method_arguments) == [STATUS_KEY]:
            if spec.value not in ("stale", "fresh", "overdue"):
                raise BraidUserError(f"status:{spec.value}: use status:stale, status:fresh "
                                     "or status:overdue")
            return {
                UniqueId(u)
                for u, st in self.states.items()
                if spec.value in st.split() and u in included_nodes
            }
        return found | super().select_included(included_nodes, spec)

    def _state(self, included_nodes: set[UniqueId], spec: SelectionCriteria) -> set[UniqueId]:
        """dbt's answer (it compares the YAML), corrected by the Python assets' code."""
        chosen = super().select_included(included_nodes, spec)
        old = self.previous_state.manifest if self.previous_state is not None else None
        if old is None or spec.value not in (*_MODIFIED, "unmodified"):
            return chosen
        changed = {
            UniqueId(uid)
            for uid, asset in self.python.items()
            if uid in included_nodes and code_changed(old, asset)
        }
        return chosen | changed if spec.value in _MODIFIED else chosen - changed

    def select_nodes_recursively(
        self, spec: SelectionSpec, warn_on_no_nodes: bool = True
    ) -> tuple[set[UniqueId], set[UniqueId]]:
        direct, indirect = super().select_nodes_recursively(spec, warn_on_no_nodes)
        raw = getattr(spec, "raw", None)
        if getattr(spec, "expect_exists", False) and not direct and raw is not None:
            shown = str(raw).replace(f"config.{STATUS_KEY}:", "status:")
            self.unmatched.append(shown.replace(f"config.{PYTHON_KEY}:", "python:"))
        return direct, indirect


@dataclass
class SelectionRequest:
    """The selection flags of a braid command, as dbt takes them."""

    select: Sequence[str] = ()
    exclude: Sequence[str] = ()
    selector: str | None = None
    state: str | None = None
    resource_types: Sequence[str] = field(default_factory=tuple)
    indirect_selection: str | None = None


#: braid's own methods travel through dbt's parser as config keys only BraidSelector answers:
#: ``status:stale|fresh`` and ``python:NAME`` (how ``braid ls`` prints an asset; globs work)
STATUS_KEY = "__braid_status"
PYTHON_KEY = "__braid_python"
_STATUS = re.compile(r"(?<![\w.])status:")
_PYTHON = re.compile(r"(?<![\w.])python:")


def _plain(values: Sequence[str]) -> list[str] | None:
    """braid's additions to the syntax, in terms dbt's parser takes: ``python:NAME`` (how
    ``braid ls`` prints an asset) is the bare name; ``status:`` is a config key only
    braid's selector answers."""
    return [
        _STATUS.sub(f"config.{STATUS_KEY}:", _PYTHON.sub(f"config.{PYTHON_KEY}:", v))
        for v in values
    ] or None


def wants_status(request: SelectionRequest) -> bool:
    return any(_STATUS.search(v) for v in [*request.select, *request.exclude])


@contextmanager
def _indirect_selection(mode: str | None) -> Iterator[None]:
    """dbt reads --indirect-selection from its global flags while parsing a selection."""
    if mode is None:
        yield
        return
    from dbt.flags import get_flags

    flags = get_flags()
    before = getattr(flags, "INDIRECT_SELECTION", None)
    object.__setattr__(flags, "INDIRECT_SELECTION", mode)
    try:
        yield
    finally:
        object.__setattr__(flags, "INDIRECT_SELECTION", before)


def selection_spec(request: SelectionRequest, config: Any) -> SelectionSpec:
    """The spec dbt would build for these flags (``--selector``, default selectors included)."""
    try:
        with _indirect_selection(request.indirect_selection):
            return _spec(request, config)
    except DbtRuntimeError as exc:
        raise BraidUserError(f"invalid selection: {_message(exc)}") from None


def _spec(request: SelectionRequest, config: Any) -> SelectionSpec:
    if request.selector:
        if request.selector not in config.selectors:
            known = ", ".join(sorted(config.selectors)) or "none defined"
            raise BraidUserError(
                f"selectors.yml: no selector named {request.selector!r} (defined: {known})"
            )
        return config.get_selector(request.selector)
    default = config.get_default_selector_name()
    if not (request.select or request.exclude) and default:
        return config.get_selector(default)
    return parse_difference(_plain(request.select), _plain(request.exclude))


def previous_state(
    request: SelectionRequest, project_root: Path, target_path: Path
) -> PreviousState | None:
    if not request.state:
        return None
    state = Path(request.state)
    if not state.is_dir():
        raise BraidUserError(f"--state {request.state}: no such directory")
    try:
        return PreviousState(state_path=state, target_path=target_path, project_root=project_root)
    except Exception as exc:  # dbt reads the artifacts here; a bad one is the user's to fix
        raise BraidUserError(
            f"--state {request.state}: cannot read dbt's artifacts there: "
            f"{' '.join(str(exc).split())}"
        ) from None


def select(
    unified: UnifiedGraph,
    manifest: Any,
    assets: Mapping[str, PythonAsset],
    spec: SelectionSpec,
    root: Path,
    state: PreviousState | None = None,
    states: Mapping[str, str] | None = None,
    selectors: Mapping[str, Any] | None = None,
) -> tuple[set[str], list[str]]:
    """(selected braid unique_ids, the selection criteria that matched nothing).

    ``states``: braid unique_id -> "fresh" | "stale", when the selection uses ``status:``.
    ``selectors``: the project's selectors.yml definitions, for dbt's ``selector:`` method.
    """
    dbt_states = {unified.to_dbt.get(u, u): st for u, st in (states or {}).items()}
    selector = BraidSelector(unified, manifest, assets, root, state, dbt_states, selectors)
    try:
        with task_contextvars(project_root=str(root)):
            chosen = selector.get_selected(spec, warn_on_no_nodes=False)
    except DbtRuntimeError as exc:
        raise BraidUserError(f"invalid selection: {_message(exc)}") from None
    return unified.braid_ids(chosen), selector.unmatched


def _message(exc: DbtRuntimeError) -> str:
    return " ".join(str(getattr(exc, "msg", exc)).split())
