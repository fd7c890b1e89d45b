"""The four verbs over every provider: plan, up, status, down.

Which provider module runs is chosen by the spec's shape (or, for ``status`` / ``down``
by name, by the location recorded at ``up`` or given by a spec). Tests pass ``session``
(AWS) or ``clients`` (GCP, Azure) to point the SDKs at local endpoints.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List, Tuple

from ..errors import InvindexError
from . import engine, state
from .engine import Backend, Outcome
from .plan import Plan
from .spec import Spec, check_name

_MODULES = {"aws": "aws", "gcp": "gcp", "azure": "azure"}


def _provider(name: str) -> Any:
    return importlib.import_module(f".{_MODULES[name]}", __package__)


def make_plan(spec: Spec, **inject: Any) -> Tuple[Plan, Backend]:
    """The plan (read-only lookups only) and the backend that would apply it."""
    return _provider(spec.provider).make_plan(spec, **inject)


def _planned(spec: Spec, **inject: Any) -> Tuple[Plan, Backend]:
    """The plan, and its backend knowing what the last `up` recorded (see ``Backend``)."""
    plan, backend = make_plan(spec, **inject)
    record = state.load(spec.name) or {}
    backend.recorded = {(kind, rid) for kind, rid in record.get("resources", [])}
    return plan, backend


def diff(spec: Spec, **inject: Any) -> Tuple[Plan, List[engine.Change]]:
    """The plan and, per step, what ``up`` would do to what exists (read-only calls)."""
    plan, backend = _planned(spec, **inject)
    return plan, engine.compare(plan, backend)


def up(spec: Spec, echo: Callable[[str], None] = print,
       confirm: engine.Confirm | None = None, **inject: Any) -> Outcome:
    """Apply the spec; ``confirm`` sees what the spec no longer names before it is deleted
    (and raises to cancel: nothing changes then)."""
    plan, backend = _planned(spec, **inject)
    record = {"name": spec.name, "shape": spec.shape, "provider": spec.provider,
              "location": backend.label, "spec": spec.source,
              "resources": sorted(backend.recorded)}
    state.save(spec.name, record)
    out = engine.apply(plan, backend, echo, confirm)
    # the ids (e.g. the EMR id `build` looks up) and every resource this spec now names
    state.save(spec.name, dict(record, ids=out.ids, resources=sorted(
        [kind, rid] for action, kind, _, rid in out.resources if action != "removed")))
    return out


def location_of(name: str, spec: Spec | None = None) -> Dict[str, str]:
    """Where cluster ``name`` lives: from its spec if given, else the local record."""
    check_name(name)
    if spec is not None:
        if spec.name != name:
            raise InvindexError(f"the spec describes cluster {spec.name}, not {name}")
        return _provider(spec.provider).location(spec)
    record = state.load(name)
    if record is None:
        raise InvindexError(f"no local record of cluster {name}: pass its spec "
                            f"(`invindex cluster down SPEC`) to find it by tag")
    return record["location"]


def backend_for(name: str, location: Dict[str, str], **inject: Any) -> Backend:
    return _provider(location["provider"]).backend_for(name, location, **inject)


def status(name: str, location: Dict[str, str], **inject: Any) -> List[Tuple[str, str, str]]:
    """(kind, id, status line) of every resource tagged for the cluster."""
    return engine.status(backend_for(name, location, **inject))


def inventory(name: str, location: Dict[str, str], **inject: Any) -> List[Tuple[str, str]]:
    """(kind, id) of what ``down`` would delete, in that order."""
    return engine.inventory(backend_for(name, location, **inject), "down")


def down(name: str, location: Dict[str, str], echo: Callable[[str], None] = print,
         kept: List[str] | None = None, **inject: Any) -> List[Tuple[str, str]]:
    """Delete everything tagged for the cluster; ``kept`` collects what stays on purpose."""
    gone = engine.destroy(backend_for(name, location, **inject), echo, kept)
    state.forget(name)
    return gone
