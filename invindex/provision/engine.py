"""Apply a plan with rollback, tear a cluster down by tag, report its status.

Provider modules supply one ``Handler`` per resource kind; this module holds the
policy common to all of them: an existing resource is reused (so ``up`` is idempotent),
what this run created is deleted again in reverse order if a later step fails, and
teardown goes kind by kind in an order where nothing is deleted before what depends on it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Protocol, Set, Tuple

from ..errors import InvindexError
from .plan import Change, Plan, Step, refs, resolve, show_fields

log = logging.getLogger(__name__)
Echo = Callable[[str], None]

# Seconds between polls and the longest wait; tests shrink the interval.
POLL_INTERVAL = 5.0
POLL_TIMEOUT = 1800.0


class Handler(Protocol):
    def find(self, step: Step, params: Dict) -> str | None:
        """The id of the resource ``step`` would create, if it already exists."""

    def create(self, step: Step, params: Dict) -> str:
        """Create it (and only it: clean up its own partial state) and return its id."""

    def delete(self, rid: str) -> str | None:
        """Delete it and wait until it is gone (or going, where nothing waits on it); what
        it deliberately leaves behind (a final snapshot), as one line, or None."""

    def find_all(self) -> List[str]:
        """Ids of every resource of this kind that carries the cluster's tag."""

    # Optional, where the API lets a resource be read back and changed:
    #   compare(step, params, rid) -> (fields updatable in place, fields needing a new one)
    #   update(step, params, rid, fields) -> id (the same, or a new version's)

    def describe(self, rid: str) -> str:
        """One line of status."""


@dataclass
class Backend:
    handlers: Dict[str, Handler]
    teardown: List[str]  # kinds, in deletion order
    label: Dict[str, str] = field(default_factory=dict)
    # kinds, in deletion order, whose tagged resources that no step names any more ``up``
    # deletes: what a spec edit dropped (an alarm, a scaling policy, a firewall rule, a
    # database user) would otherwise keep costing money or keep access open until `down`
    prune: List[str] = field(default_factory=list)
    # of those, kinds without tags or labels (Cloud SQL databases and users): only what an
    # earlier `up` of this cluster recorded (``recorded``: (kind, id)) is ever deleted, never
    # what someone made by hand beside it
    recorded_only: Set[str] = field(default_factory=set)
    recorded: Set[Tuple[str, str]] = field(default_factory=set)
    # ids of the applied steps -> lines saying how to connect (serving databases), or ""
    endpoint: Callable[[Dict[str, str]], str] = lambda ids: ""


@dataclass
class Outcome:
    created: List[Tuple[str, str, str]] = field(default_factory=list)
    existing: List[Tuple[str, str, str]] = field(default_factory=list)
    updated: List[Tuple[str, str, str]] = field(default_factory=list)
    removed: List[Tuple[str, str]] = field(default_factory=list)  # kind, id
    ids: Dict[str, str] = field(default_factory=dict)
    resources: List[Tuple[str, str, str, str]] = field(default_factory=list)  # action, kind,
    # name, id; in plan order
    endpoint: str = ""


def _compare_one(handler: Handler, step: Step, params: Dict, rid: str) -> Change:
    if not hasattr(handler, "compare"):
        return Change(step, "exists", rid)
    update, replace = handler.compare(step, params, rid)  # type: ignore[attr-defined]
    action = "replace" if replace else "update" if update else "unchanged"
    return Change(step, action, rid, update, replace)


def compare(plan: Plan, backend: Backend) -> List[Change]:
    """Each step against what exists (read-only calls). A step that refers to a resource
    still to be created is itself shown as create: its request is only known then."""
    ids: Dict[str, str] = {}
    changes = []
    for step in plan.steps:
        handler = backend.handlers[step.kind]
        if any(key not in ids for key in refs(step.params)):
            changes.append(Change(step, "create"))
            continue
        try:
            params = resolve(step.params, ids)
            rid = handler.find(step, params)
            change = _compare_one(handler, step, params, rid) if rid else Change(step, "create")
        except InvindexError:
            raise
        except Exception as e:
            raise InvindexError(f"plan: reading {step.kind} {step.name} failed: "
                                f"{_one_line(e)}") from e
        if rid:
            ids[step.ref_key] = rid
        changes.append(change)
    named = {(c.step.kind, c.rid or c.step.name) for c in changes}
    return changes + [Change(Step(kind, rid, {}), "remove", rid)
                      for kind, rid in _unnamed(backend, named)]


def _unnamed(backend: Backend, named: Set[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """(kind, id) of the cluster's resources of a ``prune`` kind that no step names."""
    return [(kind, rid) for kind in backend.prune for rid in backend.handlers[kind].find_all()
            if (kind, rid) not in named and (kind not in backend.recorded_only
                                             or (kind, rid) in backend.recorded)]


def refuse_replacements(changes: List[Change], cluster: str) -> None:
    bad = [c for c in changes if c.action == "replace"]
    if bad:
        named = "; ".join(f"{c.step.kind} {c.step.name} ({show_fields(c.replace)})" for c in bad)
        raise InvindexError(f"up: these changes need a new resource, which `up` does not do: "
                            f"{named}. Revert them in the spec, or `invindex cluster down "
                            f"{cluster}` and `up` again. Nothing was changed.")


Confirm = Callable[[List[Change]], None]


def apply(plan: Plan, backend: Backend, echo: Echo = print,
          confirm: Confirm | None = None) -> Outcome:
    """Create what is missing and update what changed in place, in order; refuse (before
    any change) what would need a replacement; on failure delete what this run created;
    then delete what the spec no longer names. ``confirm`` sees those deletions before
    anything changes and raises to cancel (the CLI asks on a terminal)."""
    changes = compare(plan, backend)
    refuse_replacements(changes, plan.spec.name)
    removals = [c for c in changes if c.action == "remove"]
    if removals and confirm is not None:
        confirm(removals)
    out = Outcome()
    made: List[Tuple[Step, str]] = []
    step = None
    try:
        for step in plan.steps:
            handler = backend.handlers[step.kind]
            params = resolve(step.params, out.ids)
            rid = handler.find(step, params)
            change = _compare_one(handler, step, params, rid) if rid else None
            if change and change.action == "replace":
                refuse_replacements([change], plan.spec.name)
            if change and change.action == "update":
                rid = handler.update(step, params, rid, change.update)  # type: ignore
                out.updated.append((step.kind, step.name, rid))
                out.resources.append(("updated", step.kind, step.name, rid))
                echo(f"updated  {step.kind} {step.name} ({rid}): {show_fields(change.update)}")
            elif rid:
                out.existing.append((step.kind, step.name, rid))
                out.resources.append(("exists", step.kind, step.name, rid))
                echo(f"exists   {step.kind} {step.name} ({rid})")
            else:
                rid = handler.create(step, params)
                made.append((step, rid))
                out.created.append((step.kind, step.name, rid))
                out.resources.append(("created", step.kind, step.name, rid))
                echo(f"created  {step.kind} {step.name} ({rid})")
            out.ids[step.ref_key] = rid
    except BaseException as e:
        what = f"{step.kind} {step.name}" if step else "the plan"
        left = _rollback(made, backend, echo)
        reason = _one_line(e)
        msg = f"up failed at {what}: {reason}; rolled back {len(made) - len(left)} created " \
              "resource(s)"
        if out.updated:
            msg += f" ({len(out.updated)} updated in place before that keep their new settings)"
        if left:
            msg += "; could NOT delete: " + ", ".join(left) + \
                   f" (run `invindex cluster down {plan.spec.name}`)"
        if isinstance(e, KeyboardInterrupt):
            raise KeyboardInterrupt(msg) from e
        raise InvindexError(msg) from e
    _remove_unnamed(backend, out, echo, {(c.step.kind, c.rid) for c in removals})
    out.endpoint = backend.endpoint(out.ids)
    return out


def _remove_unnamed(backend: Backend, out: Outcome, echo: Echo,
                    planned: Set[Tuple[str, str]]) -> None:
    """After every step is in place: delete what a ``prune`` kind no longer needs, of what
    the comparison before any change found (and ``confirm`` saw)."""
    named = {(kind, rid) for _, kind, _, rid in out.resources}
    for kind, rid in _unnamed(backend, named):
        if (kind, rid) not in planned:
            continue
        try:
            backend.handlers[kind].delete(rid)
        except Exception as e:
            raise InvindexError(f"up: every step is in place, but deleting {kind} {rid} (no "
                                f"longer in the spec) failed: {_one_line(e)}") from e
        out.removed.append((kind, rid))
        out.resources.append(("removed", kind, rid, rid))
        echo(f"removed  {kind} {rid}: no longer in the spec")


def _rollback(made: List[Tuple[Step, str]], backend: Backend, echo: Echo) -> List[str]:
    left = []
    for step, rid in reversed(made):
        try:
            backend.handlers[step.kind].delete(rid)
            echo(f"rolled back {step.kind} {step.name} ({rid})")
        except Exception as e:  # keep going: delete as much as possible
            log.warning("rollback of %s %s failed: %s", step.kind, rid, e)
            left.append(f"{step.kind} {rid}")
    return left


def destroy(backend: Backend, echo: Echo = print,
            kept: List[str] | None = None) -> List[Tuple[str, str]]:
    """Delete every tagged resource, kind by kind in teardown order; ``kept`` collects
    what a deletion leaves on purpose (say, a final snapshot)."""
    gone = []
    for kind in backend.teardown:
        handler = backend.handlers[kind]
        for rid in _listed(handler, kind, "down"):
            try:
                note = handler.delete(rid)
            except InvindexError:
                raise
            except Exception as e:
                raise InvindexError(f"down: deleting {kind} {rid} failed: {_one_line(e)}; "
                                    "run `down` again once the cause is fixed") from e
            echo(f"deleted  {kind} {rid}")
            gone.append((kind, rid))
            if note and kept is not None:
                kept.append(note)
    return gone


def inventory(backend: Backend, verb: str = "status") -> List[Tuple[str, str]]:
    """(kind, id) of every tagged resource, in teardown order."""
    return [(kind, rid) for kind in backend.teardown
            for rid in _listed(backend.handlers[kind], kind, verb)]


def status(backend: Backend) -> List[Tuple[str, str, str]]:
    """(kind, id, one line of status) per tagged resource, in creation order."""
    return [(kind, rid, backend.handlers[kind].describe(rid))
            for kind, rid in reversed(inventory(backend))]


def _listed(handler: Handler, kind: str, verb: str) -> List[str]:
    """``handler.find_all()``, with SDK failures (credentials, permissions) as one line."""
    try:
        return handler.find_all()
    except InvindexError:
        raise
    except Exception as e:
        raise InvindexError(f"{verb}: listing {kind} resources failed: {_one_line(e)}") from e


def wait_for(check: Callable[[], bool], what: str, timeout: float | None = None) -> None:
    """Poll ``check`` until true; raise a one-line error after ``timeout`` seconds."""
    deadline = time.monotonic() + (POLL_TIMEOUT if timeout is None else timeout)
    while not check():
        if time.monotonic() > deadline:
            raise InvindexError(f"timed out waiting for {what}")
        time.sleep(POLL_INTERVAL)


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
