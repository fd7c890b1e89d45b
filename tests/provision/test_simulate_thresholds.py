"""The simulator on the threshold: CloudWatch's comparisons are strict.

``GreaterThanThreshold`` and ``LessThanThreshold`` (and EMR's ``GREATER_THAN`` /
``LESS_THAN``) do not fire on a datapoint equal to the threshold, so neither may the
simulator. Demand here is a dyadic fraction of an instance (0.5, 0.75, ...) so every
datapoint is exact in floating point: exactly on the threshold, or 1/128 of an instance
past it, where the rule must fire.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from invindex.provision.simulate import Policy, Workload, simulate

STEP = 1 / 128  # of an instance: 0.78125 percentage points on one instance


def steady(rate: float, seconds: int = 600) -> Workload:
    return Workload(steps=((0, rate),), duration=seconds)


def changes(result):
    return [(e.t, e.action, e.desired) for e in result.events
            if e.action in ("scale-out", "scale-in")]


# CPU-like metric: out above 50, in below 20; 1..3 instances from 1
HIGH = Policy(mode="simple", min=1, max=3, desired=1, cooldown=180, period=60,
              evaluation_periods=2, out_threshold=50, in_threshold=20)
# in below 25, out above 70; starting from 2
LOW = Policy(mode="simple", min=1, max=3, desired=2, cooldown=180, period=60,
             evaluation_periods=2, out_threshold=70, in_threshold=25)
# scale out when low (free memory, taken as 100 - utilization): out below 25, in above 75
FREE = Policy(mode="simple", min=1, max=3, desired=1, cooldown=180, period=60,
              evaluation_periods=2, out_threshold=25, in_threshold=75,
              metric="YARNMemoryAvailablePercentage")
FREE_FROM_2 = replace(FREE, desired=2)


def test_exactly_on_the_scale_out_threshold_does_not_scale():
    """1 instance at exactly 50 % against 'out above 50': 600 instance-seconds, no event."""
    result = simulate(HIGH, steady(0.5))
    assert {v for _, v in result.datapoints} == {50.0}
    assert changes(result) == [] and result.counts == [(0, 1)]
    assert result.instance_seconds == 600 and result.finish == 600


def test_just_above_the_scale_out_threshold_scales_out():
    result = simulate(HIGH, steady(0.5 + STEP))
    assert result.datapoints[0] == (60, 50.78125)
    assert changes(result)[0] == (120, "scale-out", 2)
    assert result.instance_seconds == 120 + 2 * 480


def test_exactly_on_the_scale_in_threshold_does_not_scale():
    """2 instances at exactly 25 % against 'in below 25'."""
    result = simulate(LOW, steady(0.5))
    assert {v for _, v in result.datapoints} == {25.0}
    assert changes(result) == [] and result.instance_seconds == 2 * 600


def test_just_below_the_scale_in_threshold_scales_in():
    result = simulate(LOW, steady(0.5 - STEP))
    assert changes(result)[0] == (120, "scale-in", 1)
    assert result.instance_seconds == 2 * 120 + 480


@pytest.mark.parametrize("rate, expected", [
    (0.75, []),                                    # free memory exactly 25: no scale-out
    (0.75 + STEP, [(120, "scale-out", 2)]),        # 24.2 < 25
])
def test_scale_out_when_low_on_the_threshold(rate, expected):
    result = simulate(FREE, steady(rate))
    assert changes(result)[:1] == expected


@pytest.mark.parametrize("rate, expected", [
    (0.5, []),                                     # free memory exactly 75: no scale-in
    (0.5 - STEP, [(120, "scale-in", 1)]),          # 75.4 > 75
])
def test_scale_in_when_high_on_the_threshold(rate, expected):
    result = simulate(FREE_FROM_2, steady(rate))
    assert changes(result)[:1] == expected
