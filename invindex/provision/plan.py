"""What ``up`` will do, as data: an ordered list of steps, each the exact request it sends.

Steps are built by pure functions (one module per shape) from the spec and a few facts
looked up read-only (default VPC, subnets, image); ``plan`` prints them, ``up`` executes
them. An id that only exists once an earlier step ran is a ``Ref`` to that step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from .spec import Spec


@dataclass(frozen=True)
class Ref:
    """The id of the resource an earlier step created or found (``key``), maybe formatted."""

    key: str
    fmt: str = "{}"


@dataclass(frozen=True)
class Step:
    kind: str
    name: str
    params: Dict[str, Any]
    key: str = ""
    summary: str = ""

    @property
    def ref_key(self) -> str:
        return self.key or self.kind


@dataclass
class Plan:
    spec: Spec
    steps: List[Step]
    location: Dict[str, str] = field(default_factory=dict)

    def text(self, full: bool = False, changes: List[Change] | None = None) -> str:
        """The steps; with ``changes`` (from ``engine.compare``), what each would do."""
        where = ", ".join(f"{k} {v}" for k, v in self.location.items() if v)
        lines = [f"cluster {self.spec.name} ({self.spec.shape}{', ' + where if where else ''}):"]
        for i, step in enumerate(self.steps, 1):
            if changes:
                lines.append(f"  {i}. {changes[i - 1].line()}")
            else:
                lines.append(f"  {i}. {step.kind} {step.name}" + (f": {step.summary}"
                                                                  if step.summary else ""))
            if full:
                body = json.dumps(_printable(step.params), indent=2, sort_keys=True)
                lines.extend("       " + line for line in body.splitlines())
        for change in (changes or [])[len(self.steps):]:  # what no step names any more
            lines.append(f"  -. {change.line()}: no longer in the spec")
        return "\n".join(lines)


def resolve(value: Any, ids: Dict[str, str]) -> Any:
    """``value`` with every Ref replaced by the id it names."""
    if isinstance(value, Ref):
        return value.fmt.format(ids[value.key])
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, ids) for v in value]
    return value


def refs(value: Any) -> List[str]:
    """Keys of the steps ``value`` refers to."""
    if isinstance(value, Ref):
        return [value.key]
    if isinstance(value, dict):
        return [k for v in value.values() for k in refs(v)]
    if isinstance(value, (list, tuple)):
        return [k for v in value for k in refs(v)]
    return []


Fields = Dict[str, Tuple[Any, Any]]  # dotted field -> (current, wanted)


def diff_fields(wanted: Any, current: Any, prefix: str = "") -> Fields:
    """Where ``current`` differs from ``wanted``, comparing only what ``wanted`` sets (an
    API answers with more fields than a request sends)."""
    if isinstance(wanted, dict):
        here = current if isinstance(current, dict) else {}
        out: Fields = {}
        for key, value in wanted.items():
            out.update(diff_fields(value, here.get(key), f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(wanted, (list, tuple)):
        if isinstance(current, (list, tuple)) and len(current) == len(wanted):
            out = {}
            for i, (w, c) in enumerate(zip(wanted, current, strict=True)):
                out.update(diff_fields(w, c, f"{prefix}[{i}]"))
            return out
        return {prefix: (current, list(wanted))}
    if wanted == current or (_number(wanted) and _number(current)
                             and float(wanted) == float(current)):
        return {}
    return {prefix: (current, wanted)}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def show_fields(fields: Fields) -> str:
    return ", ".join(f"{k} {_short(old)} -> {_short(new)}" for k, (old, new) in fields.items())


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(_printable(value), sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Change:
    """A step compared with what exists: create, unchanged, update (fields in place),
    replace (fields that cannot change in place), or exists (not compared)."""

    step: Step
    action: str
    rid: str = ""
    update: Fields = field(default_factory=dict)
    replace: Fields = field(default_factory=dict)

    def line(self) -> str:
        text = f"{self.action:9} {self.step.kind} {self.step.name}"
        fields = self.replace if self.action == "replace" else self.update
        if fields:
            return f"{text}: {show_fields(fields)}"
        if self.action == "create" and self.step.summary:
            return f"{text}: {self.step.summary}"
        return f"{text} ({self.rid})" if self.rid else text


def _printable(value: Any) -> Any:
    if isinstance(value, Ref):
        return value.fmt.format(f"<{value.key}>")
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
