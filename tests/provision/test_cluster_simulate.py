"""The autoscaling simulator: pure functions, checked against numbers worked out by hand."""

from __future__ import annotations

import textwrap

import pytest

from invindex.cli import main
from invindex.errors import UsageError
from invindex.provision.simulate import Policy, Workload, simulate
from invindex.provision.workload import parse_job, read_trace

TUTORIAL = Policy(mode="simple", min=1, max=3, desired=1, adjustment=1, cooldown=180,
                  period=60, evaluation_periods=2, out_threshold=70, in_threshold=40)


def test_tutorial_policy_reacts_to_a_load_spike_as_worked_out_by_hand():
    """The tutorial's rules (+1 when average CPU > 70 % for 2 x 60 s, -1 when < 40 % for
    2 x 60 s, cooldown 180 s), 1..3 instances, starting with 1, no warm-up.

    Demand (instance-seconds per second): 0.3 for [0, 300), a spike of 1.8 for [300, 900)
    (90 % on 2 instances), 0.3 for [900, 1500).

    - 0-300 s: 1 instance at 30 %. The low alarm is in ALARM from t=120 (datapoints 30, 30)
      but the group is at min: nothing happens, no cooldown starts.
    - 300-420 s: 1 instance gets 1.8/s, serves 1/s: 100 % CPU, backlog +0.8/s.
      Datapoints at 360 and 420 are 100: at t=420 the high alarm fires -> 2 instances,
      cooldown to 600. Backlog at 420: 0.8 x 120 = 96 instance-seconds (the peak).
    - 420-600 s: 2 instances at 100 % drain the backlog at 2 - 1.8 = 0.2/s: 96 - 36 = 60
      left at 600. The high alarm is still in ALARM (100, 100) and cooldown is over at 600:
      -> 3 instances (max), cooldown to 780.
    - 600-650 s: 3 instances drain 60 at 3 - 1.8 = 1.2/s: cleared at t=650. Then 1.8/3 =
      60 %: datapoint at 660 = (50 x 100 + 10 x 60) / 60 = 93.3 (high alarm: at max, no
      change), 60 from 720 on: neither alarm.
    - 900 s: demand 0.3 on 3 instances = 10 %; datapoints at 960 and 1020 are 10 -> at
      t=1020 scale in to 2 (cooldown to 1200); 15 % on 2; at t=1200 the low alarm is still
      in ALARM -> 1 instance; then 30 % (at min).
    - The trace ends at 1500 with no backlog: finish 1500 s.
    - Instance-seconds: 1 x 420 + 2 x 180 + 3 x 420 + 2 x 180 + 1 x 300 = 2700 -> 0.75
      instance-hours.
    """
    load = Workload(steps=((0, 0.3), (300, 1.8), (900, 0.3)), duration=1500)
    result = simulate(TUTORIAL, load)
    changes = [(e.t, e.action, e.desired) for e in result.events
               if e.action in ("scale-out", "scale-in")]
    assert changes == [(420, "scale-out", 2), (600, "scale-out", 3),
                       (1020, "scale-in", 2), (1200, "scale-in", 1)]
    assert result.counts == [(0, 1), (420, 2), (600, 3), (1020, 2), (1200, 1)]
    points = dict(result.datapoints)
    assert points[360] == points[420] == points[600] == 100
    assert points[660] == pytest.approx(93.333, abs=0.01)
    assert points[720] == pytest.approx(60) and points[960] == pytest.approx(10)
    assert result.peak_backlog == pytest.approx(96)
    assert result.finish == 1500
    assert result.instance_seconds == 2700 and result.instance_hours == 0.75
    assert [e.action for e in result.events if e.action.startswith("at-")] == [
        "at-min", "at-max", "at-min"]


def test_a_batch_job_with_warmup_by_hand():
    """job:12GB@10MB/s is 1200 instance-seconds of work at t=0. Rules as the tutorial,
    1..2 instances, 60 s warm-up.

    - The first instance runs at 100 % from 0; datapoints at 60 and 120 are 100 -> at
      t=120 scale out to 2 (billed from 120, serving from 180). Work done by 180: 180.
    - From 180 two instances do 2/s: 1200 - 180 = 1020 left -> 510 s -> done at t=690.
    - Billed: 1 x 690 + 1 x (690 - 120) = 1260 instance-seconds = 0.35 instance-hours.
    """
    policy = Policy(mode="simple", min=1, max=2, desired=1, warmup=60)
    result = simulate(policy, parse_job("job:12GB@10MB/s"))
    assert [(e.t, e.desired) for e in result.events if e.action == "scale-out"] == [(120, 2)]
    assert result.finish == 690
    assert result.instance_seconds == 1260


def test_without_autoscaling_the_job_takes_longer_and_costs_the_same():
    one = simulate(Policy(mode="none", min=1, max=1, desired=1), parse_job("job:1GB@1MB/s"))
    assert one.finish == 1000 and one.instance_seconds == 1000


def test_target_tracking_scales_out_after_three_periods():
    """Demand 2.4 on 1 instance reads 100 %: after 3 periods above target 60 (t=180) the
    policy sets ceil(1 x 100 / 60) = 2. Two instances are still at 100 % (2.4 > 2), so at
    the next period (t=240, the last three datapoints all 100, no cooldown) it sets
    ceil(2 x 100 / 60) = 4 = max."""
    policy = Policy(mode="target", min=1, max=4, desired=1, target=60, cooldown=0)
    result = simulate(policy, Workload(steps=((0, 2.4),), duration=900))
    outs = [(e.t, e.desired) for e in result.events if e.action == "scale-out"]
    assert outs == [(180, 2), (240, 4)]


def test_a_scale_out_when_low_metric_uses_free_capacity():
    """EMR's YARNMemoryAvailablePercentage: out below 15, in above 75; a saturated
    instance has 0 % free, so it scales out after one 300 s period."""
    policy = Policy(mode="simple", min=1, max=2, desired=1, period=300, evaluation_periods=1,
                    out_threshold=15, in_threshold=75, metric="YARNMemoryAvailablePercentage")
    result = simulate(policy, Workload(steps=((0, 1.5),), duration=600))
    assert [(e.t, e.desired) for e in result.events if e.action == "scale-out"] == [(300, 2)]


def test_trace_csv_and_the_cli_with_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    trace = tmp_path / "trace.csv"
    trace.write_text("seconds,cpu,instances\n0,30,1\n300,90,2\n900,30,1\n")
    load = read_trace(trace, instances=1)
    assert load.steps == ((0, 0.3), (300, 1.8), (900, 0.3)) and load.duration == 1500
    spec = tmp_path / "fleet.toml"
    spec.write_text(textwrap.dedent("""
        name = "sim"
        shape = "fleet"
        [scaling]
        min = 1
        max = 3
        desired = 1
    """))
    png = tmp_path / "out.png"
    assert main(["cluster", "simulate", str(spec), "--workload", str(trace),
                 "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "0:07:00          2  scale-out (CPUUtilization 100.0 > 70 for 2 x 60 s)" in out
    assert "finished at 0:25:00" in out and "instance-hours: 0.75" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_workloads_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="job:SIZE@RATE"):
        parse_job("job:lots")
    bad = tmp_path / "bad.csv"
    bad.write_text("seconds,cpu\n0,30\n0,40\n")
    with pytest.raises(UsageError, match="bad.csv:3"):
        read_trace(bad, 1)
