"""Replay a workload through a spec's autoscaling rules, second by second. Pure functions.

No emulator evaluates CloudWatch alarms or Dataproc's autoscaler, so this is where thresholds
get tuned before a cluster costs money. The rules follow the providers' documentation (each
is checked by a hand-worked test that cites its source):

- Demand is work in instance-seconds per second (1.0 keeps one instance at 100 %). Work
  that finds no free capacity waits in a backlog and is done later.
- Capacity: the scaled instances in service plus ``fixed`` nodes that are always there
  (EMR core nodes, Dataproc primary workers: they work and report metrics too); ``overhead``
  nodes (a master) are billed but do no work.
- CloudWatch (simple scaling, EMR automatic scaling): every ``period`` seconds a datapoint,
  the average utilization of the capacity in service over that period (none when nothing is
  in service: the alarm then has insufficient data). An alarm is in ALARM when its last
  ``evaluation_periods`` datapoints all breach, strictly (GreaterThanThreshold /
  LessThanThreshold). While in ALARM it invokes its Auto Scaling action once a minute,
  whatever the period.
- Simple scaling: an invocation changes the desired count by +/-adjustment clamped to
  min..max; it is ignored while a scaling activity is in progress or in cooldown. The
  cooldown starts when the activity completes: a launch completes when its instances are
  in service (``warmup`` seconds after launch here, the simulator's one start-up delay);
  a termination at once. At min or max nothing changes and no cooldown starts.
- Target tracking: no cooldown. Warming instances count towards the desired count but not
  towards the metric; out when the last 3 one-minute datapoints are above the target, to
  ceil(in service x metric / target); in when the last 15 are below 90 % of it, never while
  an instance is still warming up.
- Dataproc: every cooldown period (counted from the end of the previous update) the
  average of pending minus available YARN memory over the period, in workers, gives the
  change: up by ceil(factor x it), down by floor(factor x it); a worker's memory is one
  unit of capacity, and the pending memory is the backlog in tasks of ``task_seconds``.
  Removed workers decommission gracefully: billed, taking no new work, for
  min(graceful timeout, task_seconds).
- Scale-in removes the newest instances first.
- For a scale-out-when-low metric (EMR's YARNMemoryAvailablePercentage) the metric is
  taken as 100 - utilization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Sequence, Tuple

from ..errors import UsageError

EPS = 1e-9
HORIZON = 7 * 24 * 3600  # stop a run that cannot finish (e.g. max too small) after a week


@dataclass(frozen=True)
class Policy:
    mode: str            # simple, target, dataproc, none
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
    fixed: int = 0       # nodes always in service and working (EMR core, Dataproc primary)
    overhead: int = 0    # nodes billed that do no work (a master)
    scale_up_factor: float = 1.0
    scale_down_factor: float = 1.0
    decommission_timeout: int = 3600
    task_seconds: int = 60

    @property
    def out_above(self) -> bool:
        return self.out_threshold > self.in_threshold


def policy_from_scaling(scaling: Mapping[str, Any], **extra: Any) -> Policy:
    """The simulator's view of a spec's [scaling] table (``extra``: fixed, overhead...)."""
    return Policy(mode=scaling["mode"], min=scaling["min"], max=scaling["max"],
                  desired=scaling["desired"], adjustment=scaling.get("adjustment", 1),
                  cooldown=scaling["cooldown"], period=scaling.get("period") or 60,
                  evaluation_periods=scaling.get("evaluation_periods") or 2,
                  out_threshold=scaling.get("scale_out_threshold") or 70.0,
                  in_threshold=scaling.get("scale_in_threshold") or 40.0,
                  target=scaling.get("target", 50.0), warmup=scaling.get("warmup", 0),
                  metric=scaling.get("metric") or "CPUUtilization", **extra)


def policy_for(spec: Any, task_seconds: int = 60) -> Policy:
    """A spec's policy: EMR's core nodes and Dataproc's primary workers work (and report
    metrics) next to the scaled ones; each shape's master is billed."""
    sc = spec.scaling
    if spec.shape == "emr":
        if sc["mode"] == "managed":
            raise UsageError("EMR managed scaling's algorithm is not published: the "
                             "simulator models automatic scaling rules (mode = \"simple\")")
        return policy_from_scaling(sc, fixed=spec.emr["core_count"], overhead=1)
    if spec.shape == "dataproc":
        d = spec.dataproc
        mode = "dataproc" if sc["mode"] != "none" else "none"
        return policy_from_scaling(
            dict(sc, mode=mode), fixed=d["workers"], overhead=1,
            scale_up_factor=d["scale_up_factor"], scale_down_factor=d["scale_down_factor"],
            decommission_timeout=d["graceful_decommission_timeout"], task_seconds=task_seconds)
    return policy_from_scaling(sc)


@dataclass(frozen=True)
class Workload:
    """Demand as a step function: (start second, instance-seconds per second) pairs until
    ``duration``, plus ``initial`` instance-seconds of work waiting at t = 0 (a batch job),
    which comes in tasks of ``task_seconds`` (one input split on one instance)."""

    steps: Tuple[Tuple[int, float], ...] = ()
    duration: int = 0
    initial: float = 0.0
    label: str = ""
    task_seconds: int = 60

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


@dataclass
class _Fleet:
    """The scaled instances: launch times (serving after the warm-up), draining ones."""

    warmup: int
    launched: List[int]
    draining: List[int] = field(default_factory=list)  # leave at these times
    busy_until: int = 0        # simple scaling: activity in progress or cooldown

    def in_service(self, t: int) -> int:
        return sum(1 for start in self.launched if t >= start + self.warmup)

    def warming(self, t: int) -> bool:
        return any(t < start + self.warmup for start in self.launched)

    def resize(self, t: int, new: int, drain: int = 0) -> int:
        """Launch or remove (newest first) to ``new``; the time the change completes."""
        if new > len(self.launched):
            self.launched += [t] * (new - len(self.launched))
            return t + self.warmup
        self.draining += [t + drain] * (len(self.launched) - new)
        self.launched = self.launched[:new]
        return t + drain


def simulate(policy: Policy, workload: Workload) -> Result:
    """Run until all demand has arrived and been served (or HORIZON); see module doc."""
    p = policy
    res = Result(p)
    fleet = _Fleet(p.warmup, [-p.warmup] * p.desired)
    alarm = {"out": -1, "in": -1}   # since when each alarm is in ALARM (-1: it is not)
    backlog = float(workload.initial)
    task = workload.task_seconds or p.task_seconds
    busy = served = 0.0      # this period: work done, capacity-seconds in service
    gap_sum, gap_n, next_eval = 0.0, 0, p.cooldown   # Dataproc's averaging window
    index = 0
    res.events.append(Event(0, "start", p.desired))
    res.counts.append((0, p.desired))

    def change(t: int, new: int, why: str) -> int:
        desired = len(fleet.launched)
        if new == desired:
            return t
        res.events.append(Event(t, "scale-out" if new > desired else "scale-in", new, why))
        res.counts.append((t, new))
        drain = min(p.decommission_timeout, task) if p.mode == "dataproc" else 0
        return fleet.resize(t, new, drain)

    def limit(t: int, kind: str, why: str) -> None:
        if res.events[-1].action != kind:
            res.events.append(Event(t, kind, len(fleet.launched), why))

    t = 0
    while t < HORIZON:
        if p.mode in ("simple", "target") and t and t % p.period == 0:
            value = 100.0 * busy / served if served else None
            res.datapoints.append((t, value))
            busy = served = 0.0
            if p.mode == "simple":
                _alarms(p, res.datapoints, alarm, t)
            else:
                _target(p, res.datapoints, fleet, t, change)
        if p.mode == "simple":
            for direction in ("out", "in"):
                since = alarm[direction]
                if since >= 0 and (t - since) % 60 == 0:
                    _invoke(p, direction, res.datapoints, fleet, t, change, limit)
        if p.mode == "dataproc" and t >= next_eval:
            next_eval = _dataproc(p, gap_sum / max(gap_n, 1), fleet, t, change, limit)
            gap_sum, gap_n = 0.0, 0
        fleet.draining = [end for end in fleet.draining if end > t]
        if t >= workload.duration and backlog <= EPS:
            res.finish = t
            break
        rate, index = workload.rate(t, index)
        backlog += rate
        capacity = p.fixed + fleet.in_service(t)
        done = min(backlog, capacity)
        backlog -= done
        busy += done
        served += capacity
        gap_sum += backlog / task - (capacity - done)
        gap_n += 1
        res.peak_backlog = max(res.peak_backlog, backlog if backlog > EPS else 0.0)
        res.instance_seconds += p.overhead + p.fixed + len(fleet.launched) + len(fleet.draining)
        t += 1
    return res


def _metric(p: Policy, points: Sequence[Tuple[int, float | None]]) -> List[float | None]:
    return [v if v is None or p.out_above else 100.0 - v for _, v in points]


def _breach(p: Policy, direction: str, value: float) -> bool:
    """Strict comparisons, as CloudWatch's GreaterThanThreshold / LessThanThreshold."""
    sign = 1 if p.out_above else -1
    if direction == "out":
        return sign * value > sign * p.out_threshold
    return sign * value < sign * p.in_threshold


def _alarms(p: Policy, points: Sequence[Tuple[int, float | None]], alarm: dict, t: int) -> None:
    """Each alarm's state after a datapoint: ALARM when the last N all breach."""
    last = _metric(p, points)[-p.evaluation_periods:]
    for direction in ("out", "in"):
        firing = len(last) == p.evaluation_periods and all(
            v is not None and _breach(p, direction, v) for v in last)
        if not firing:
            alarm[direction] = -1
        elif alarm[direction] < 0:
            alarm[direction] = t


def _invoke(p: Policy, direction: str, points, fleet: _Fleet, t: int, change, limit) -> None:
    """One invocation of a simple scaling policy by its alarm."""
    value = _metric(p, points)[-1]
    if direction == "out":
        op = ">" if p.out_above else "<"
        why = f"{p.metric} {value:.1f} {op} {p.out_threshold:g} for " \
              f"{p.evaluation_periods} x {p.period} s"
        step = p.adjustment
    else:
        op = "<" if p.out_above else ">"
        why = f"{p.metric} {value:.1f} {op} {p.in_threshold:g} for " \
              f"{p.evaluation_periods} x {p.period} s"
        step = -p.adjustment
    desired = len(fleet.launched)
    new = max(p.min, min(p.max, desired + step))
    if new == desired:
        limit(t, "at-max" if step > 0 else "at-min", why)
        return
    if t < fleet.busy_until:
        return  # an activity in progress or the cooldown: the invocation is ignored
    fleet.busy_until = change(t, new, why) + p.cooldown


def _target(p: Policy, points, fleet: _Fleet, t: int, change) -> None:
    metric = _metric(p, points)
    if metric[-1] is None:
        return
    serving = p.fixed + fleet.in_service(t - 1)  # the capacity the datapoint measured
    want = max(p.min, min(p.max, math.ceil(serving * metric[-1] / p.target - EPS) - p.fixed))
    desired = len(fleet.launched)
    high, low = metric[-3:], metric[-15:]
    if len(high) == 3 and all(v is not None and v > p.target for v in high) and want > desired:
        change(t, want, f"{p.metric} {metric[-1]:.1f} above target {p.target:g} for 3 periods")
    elif len(low) == 15 and all(v is not None and v < 0.9 * p.target for v in low) and \
            want < desired and not fleet.warming(t):
        change(t, want, f"{p.metric} {metric[-1]:.1f} below 90 % of target for 15 periods")


def _dataproc(p: Policy, gap: float, fleet: _Fleet, t: int, change, limit) -> int:
    """One evaluation of Dataproc's basic YARN algorithm; when the next one is due."""
    desired = len(fleet.launched)
    if gap > EPS:
        new = min(p.max, desired + math.ceil(p.scale_up_factor * gap - EPS))
    elif gap < -EPS:
        new = max(p.min, desired - math.floor(p.scale_down_factor * -gap + EPS))
    else:
        return t + p.cooldown
    why = f"{'pending' if gap > 0 else 'available'} YARN memory {abs(gap):.2f} workers " \
          f"(average over {p.cooldown} s)"
    if new == desired:
        if (gap > 0 and desired == p.max) or (gap < 0 and desired == p.min):
            limit(t, "at-max" if gap > 0 else "at-min", why)
        return t + p.cooldown
    return change(t, new, why) + p.cooldown


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
    elif p.mode == "dataproc":
        rules = (f"Dataproc YARN autoscaling, factors up {p.scale_up_factor:g} / down "
                 f"{p.scale_down_factor:g}, cooldown {p.cooldown} s, graceful decommission "
                 f"{p.decommission_timeout} s")
    else:
        rules = "no autoscaling"
    fixed = f" + {p.fixed} fixed" if p.fixed else ""
    billed = f" (+ {p.overhead} master billed)" if p.overhead else ""
    lines = [f"{name + ': ' if name else ''}{rules}; {p.min}..{p.max} instances{fixed}"
             f"{billed}, start {p.desired}, warm-up {p.warmup} s",
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
