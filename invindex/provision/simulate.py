"""Replay a workload through a spec's autoscaling rules, second by second. Pure functions.

No emulator evaluates CloudWatch alarms, so this is where thresholds get tuned before a
cluster costs money. The model, kept deliberately small:

- Demand is work in instance-seconds per second (1.0 keeps one instance at 100 % CPU).
  Work that finds no free capacity waits in a backlog and is done later.
- Every ``period`` seconds a datapoint is taken: the average utilization of the instances
  in service over that period. An alarm is in ALARM when the last ``evaluation_periods``
  datapoints all breach its threshold; while it stays there its policy is invoked again at
  each period (as CloudWatch does for Auto Scaling actions).
- Simple scaling: a policy changes the desired count by +/-adjustment, clamped to
  min..max; an actual change starts a cooldown of ``cooldown`` seconds during which no
  simple scaling policy runs (out or in). At min or max nothing happens and no cooldown.
- A launched instance is billed at once and serves load after ``warmup`` seconds; scale-in
  removes the newest instances first.
- Target tracking (approximation of AWS's): out when 3 datapoints are above the target, in
  when 15 are below 90 % of it, to ceil(in-service x metric / target).
- For a scale-out-when-low metric (EMR's YARNMemoryAvailablePercentage) the metric is
  taken as 100 - utilization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Sequence, Tuple

EPS = 1e-9
HORIZON = 7 * 24 * 3600  # stop a run that cannot finish (e.g. max too small) after a week


@dataclass(frozen=True)
class Policy:
    mode: str
    min: int
    max: int
    desired: int
    adjustment: int = 1
    cooldown: int = 180
    period: int = 60
    evaluation_periods: int = 2
    out_threshold: float = 70.0
    in_threshold: float = 40.0
    target: float = 50.0
    warmup: int = 0
    metric: str = "CPUUtilization"

    @property
    def out_above(self) -> bool:
        return self.out_threshold > self.in_threshold


def policy_from_scaling(scaling: Mapping[str, Any]) -> Policy:
    """The simulator's view of a spec's [scaling] table."""
    return Policy(mode=scaling["mode"], min=scaling["min"], max=scaling["max"],
                  desired=scaling["desired"], adjustment=scaling.get("adjustment", 1),
                  cooldown=scaling["cooldown"], period=scaling.get("period") or 60,
                  evaluation_periods=scaling.get("evaluation_periods") or 2,
                  out_threshold=scaling.get("scale_out_threshold") or 70.0,
                  in_threshold=scaling.get("scale_in_threshold") or 40.0,
                  target=scaling.get("target", 50.0), warmup=scaling.get("warmup", 0),
                  metric=scaling.get("metric") or "CPUUtilization")


@dataclass(frozen=True)
class Workload:
    """Demand as a step function: (start second, instance-seconds per second) pairs until
    ``duration``, plus ``initial`` instance-seconds of work waiting at t = 0 (a batch job)."""

    steps: Tuple[Tuple[int, float], ...] = ()
    duration: int = 0
    initial: float = 0.0
    label: str = ""

    def rate(self, t: int, index: int) -> Tuple[float, int]:
        """Demand at second ``t``, and the step index to resume from (t only grows)."""
        while index + 1 < len(self.steps) and self.steps[index + 1][0] <= t:
            index += 1
        if t >= self.duration or not self.steps or t < self.steps[0][0]:
            return 0.0, index
        return self.steps[index][1], index


@dataclass(frozen=True)
class Event:
    t: int
    action: str          # "start", "scale-out", "scale-in", "at-max", "at-min"
    desired: int
    reason: str = ""


@dataclass
class Result:
    policy: Policy
    events: List[Event] = field(default_factory=list)
    datapoints: List[Tuple[int, float | None]] = field(default_factory=list)
    counts: List[Tuple[int, int]] = field(default_factory=list)  # (t, instances) on change
    finish: int | None = None
    instance_seconds: int = 0
    peak_backlog: float = 0.0

    @property
    def instance_hours(self) -> float:
        return self.instance_seconds / 3600


def simulate(policy: Policy, workload: Workload) -> Result:
    """Run until all demand has arrived and been served (or HORIZON); see module doc."""
    res = Result(policy)
    launched: List[int] = [-policy.warmup] * policy.desired  # launch time of each instance
    desired = policy.desired
    cooldown_until = 0
    backlog = float(workload.initial)
    busy = served = 0.0      # this period: work done, capacity-seconds in service
    index = 0
    res.events.append(Event(0, "start", desired))
    res.counts.append((0, desired))
    t = 0
    while t < HORIZON:
        if t and t % policy.period == 0:
            value = 100.0 * busy / served if served else None
            res.datapoints.append((t, value))
            busy = served = 0.0
            new, why = _decide(policy, res.datapoints, desired, t >= cooldown_until)
            if new != desired:
                res.events.append(Event(t, "scale-out" if new > desired else "scale-in", new, why))
                launched = launched + [t] * (new - desired) if new > desired else \
                    launched[:new]
                desired = new
                cooldown_until = t + policy.cooldown
                res.counts.append((t, desired))
            elif why and res.events[-1].action != why.split(":")[0]:
                res.events.append(Event(t, why.split(":")[0], desired, why))
        if t >= workload.duration and backlog <= EPS:
            res.finish = t
            break
        rate, index = workload.rate(t, index)
        backlog += rate
        capacity = sum(1 for start in launched if t >= start + policy.warmup)
        done = min(backlog, capacity)
        backlog -= done
        busy += done
        served += capacity
        res.peak_backlog = max(res.peak_backlog, backlog if backlog > EPS else 0.0)
        res.instance_seconds += len(launched)
        t += 1
    return res


def _decide(p: Policy, points: Sequence[Tuple[int, float | None]], desired: int,
            may_act: bool) -> Tuple[int, str]:
    """New desired count after a datapoint, and why (or ("", same) when nothing fires)."""
    if p.mode == "none":
        return desired, ""
    metric = [v if v is None or p.out_above else 100.0 - v for _, v in points]
    if p.mode == "target":
        return _target(p, metric, desired, may_act)
    last = metric[-p.evaluation_periods:]
    if len(last) < p.evaluation_periods or any(v is None for v in last):
        return desired, ""
    sign = 1 if p.out_above else -1
    span = f"for {p.evaluation_periods} x {p.period} s"
    if all(sign * v > sign * p.out_threshold for v in last):
        op = ">" if p.out_above else "<"
        why = f"{p.metric} {last[-1]:.1f} {op} {p.out_threshold:g} {span}"
        return _step(p, desired, p.adjustment, may_act, why)
    if all(sign * v < sign * p.in_threshold for v in last):
        op = "<" if p.out_above else ">"
        why = f"{p.metric} {last[-1]:.1f} {op} {p.in_threshold:g} {span}"
        return _step(p, desired, -p.adjustment, may_act, why)
    return desired, ""


def _step(p: Policy, desired: int, change: int, may_act: bool, why: str) -> Tuple[int, str]:
    new = max(p.min, min(p.max, desired + change))
    if new == desired:
        return desired, ("at-max: " if change > 0 else "at-min: ") + why
    if not may_act:
        return desired, ""  # in cooldown: the invocation is ignored
    return new, why


def _target(p: Policy, metric: List[float | None], desired: int,
            may_act: bool) -> Tuple[int, str]:
    if not may_act or metric[-1] is None:
        return desired, ""
    want = max(p.min, min(p.max, math.ceil(desired * metric[-1] / p.target - EPS)))
    high, low = metric[-3:], metric[-15:]
    if len(high) == 3 and all(v is not None and v > p.target for v in high) and want > desired:
        return want, f"{p.metric} {metric[-1]:.1f} above target {p.target:g} for 3 periods"
    if len(low) == 15 and all(v is not None and v < 0.9 * p.target for v in low) and \
            want < desired:
        return want, f"{p.metric} {metric[-1]:.1f} below 90 % of target for 15 periods"
    return desired, ""


def clock(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def report(result: Result, name: str = "") -> str:
    """What ``invindex cluster simulate`` prints."""
    p = result.policy
    if p.mode == "simple":
        rules = (f"simple scaling {p.adjustment:+d}/-{p.adjustment} on {p.metric} "
                 f"{p.out_threshold:g} / {p.in_threshold:g} over {p.evaluation_periods} x "
                 f"{p.period} s, cooldown {p.cooldown} s")
    elif p.mode == "target":
        rules = f"target tracking {p.metric} at {p.target:g}"
    else:
        rules = "no autoscaling"
    lines = [f"{name + ': ' if name else ''}{rules}; {p.min}..{p.max} instances, start "
             f"{p.desired}, warm-up {p.warmup} s",
             f"{'time':>9}  instances  event"]
    for e in result.events:
        lines.append(f"{clock(e.t):>9}  {e.desired:>9}  {e.action}"
                     + (f" ({e.reason.split(': ', 1)[-1]})" if e.reason else ""))
    if result.finish is None:
        lines.append(f"not finished after {clock(HORIZON)} (backlog never cleared: raise max?)")
    else:
        lines.append(f"finished at {clock(result.finish)}")
    lines.append(f"instance-hours: {result.instance_hours:.2f}; peak backlog: "
                 f"{result.peak_backlog:.0f} instance-seconds of work waiting")
    return "\n".join(lines)
