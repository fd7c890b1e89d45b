"""Read a simulator workload: a CPU-utilization trace (CSV) or a batch job's size and speed.

Trace CSV, with a header: ``seconds,cpu`` and optionally ``instances`` (how many
instances the row was measured on; default the spec's starting count). Each row holds
until the next; the last holds as long as the gap before it. Demand = cpu / 100 x
instances, so a trace recorded on a fixed-size cluster replays as load the simulated
fleet has to absorb.

Job: ``job:SIZE@RATE`` such as ``job:200GB@25MB/s``: SIZE of input, RATE one instance
processes; all of it waits at t = 0, in tasks of one input split (``SPLIT_BYTES``, Hadoop's
default block size) each.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import List, Tuple

from ..errors import UsageError
from .simulate import Workload

_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
          "t": 1e12, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
SPLIT_BYTES = 128 * 2**20
_JOB = re.compile(r"^job:\s*([\d.]+)\s*([a-z]*)\s*@\s*([\d.]+)\s*([a-z]*)\s*(/s)?$", re.I)


def parse_workload(text: str, instances: int) -> Workload:
    """``text`` is a CSV path or ``job:SIZE@RATE``; ``instances`` is the trace's default."""
    if text.startswith("job:"):
        return parse_job(text)
    return read_trace(Path(text), instances)


def parse_job(text: str) -> Workload:
    m = _JOB.match(text.strip())
    if not m or m.group(2).lower() not in _UNITS or m.group(4).lower() not in _UNITS:
        raise UsageError(f"workload {text!r}: expected job:SIZE@RATE, e.g. job:200GB@25MB/s")
    size = float(m.group(1)) * _UNITS[m.group(2).lower()]
    rate = float(m.group(3)) * _UNITS[m.group(4).lower()]
    if rate <= 0:
        raise UsageError("workload: the per-instance rate must be positive")
    return job_workload(size, rate, f"job of {text[4:]}")


def job_workload(size: float, rate: float, label: str) -> Workload:
    """``size`` bytes waiting at t = 0, one instance doing ``rate`` bytes per second."""
    return Workload(initial=size / rate, label=f"{label} (one instance: {size / rate:.0f} s)",
                    task_seconds=max(1, round(min(size, SPLIT_BYTES) / rate)))


def read_trace(path: Path, instances: int) -> Workload:
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise UsageError(f"workload: {e}") from None
    steps: List[Tuple[int, float]] = []
    for n, row in enumerate(rows, 2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            t = int(float(row.get("seconds") or row["time"]))
            cpu = float(row.get("cpu") or row["cpu_percent"])
            count = float(row.get("instances") or instances)
        except (KeyError, ValueError):
            raise UsageError(f"{path}:{n}: expected columns seconds,cpu[,instances]") from None
        if not 0 <= cpu <= 100 or count < 0 or (steps and t <= steps[-1][0]):
            raise UsageError(f"{path}:{n}: cpu must be 0-100 and seconds increasing")
        steps.append((t, cpu / 100 * count))
    if not steps:
        raise UsageError(f"{path}: no rows")
    gap = steps[-1][0] - steps[-2][0] if len(steps) > 1 else 60
    return Workload(steps=tuple(steps), duration=steps[-1][0] + gap,
                    label=f"trace {path.name} ({len(steps)} rows)")
