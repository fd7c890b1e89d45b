"""What ``up`` will do, as data: an ordered list of steps, each the exact request it sends.

Steps are built by pure functions (one module per shape) from the spec and a few facts
looked up read-only (default VPC, subnets, image); ``plan`` prints them, ``up`` executes
them. An id that only exists once an earlier step ran is a ``Ref`` to that step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List

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

    def text(self, full: bool = False) -> str:
        where = ", ".join(f"{k} {v}" for k, v in self.location.items() if v)
        lines = [f"cluster {self.spec.name} ({self.spec.shape}{', ' + where if where else ''}):"]
        for i, step in enumerate(self.steps, 1):
            lines.append(f"  {i}. {step.kind} {step.name}" + (f": {step.summary}"
                                                              if step.summary else ""))
            if full:
                body = json.dumps(_printable(step.params), indent=2, sort_keys=True)
                lines.extend("       " + line for line in body.splitlines())
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
