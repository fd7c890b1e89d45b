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


# The providers' semantics, each rule worked out by hand ----------------------------------

def _outs(result):
    return [(e.t, e.desired) for e in result.events if e.action == "scale-out"]


def test_an_alarm_in_alarm_invokes_its_policy_once_a_minute_not_once_a_period():
    """AWS re:Post, "Why doesn't my CloudWatch alarm's state change invoke my Amazon EC2 Auto
    Scaling policy?" (https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm):
    "an alarm invokes an Auto Scaling action once each minute when the alarm remains in a new
    state, regardless of the configured time period."

    One 300 s period, 1..4 instances, cooldown 60 s, no warm-up, saturating demand. The
    datapoint at 300 (100 %) puts the alarm in ALARM; it stays there until the next
    datapoint at 600, invoking at 300, 360, 420, 480: +1 at 300 (cooldown to 360), +1 at
    360, +1 at 420 (max 4), at-max at 480. Once per period it would have been 300 and 600."""
    policy = Policy(mode="simple", min=1, max=4, desired=1, cooldown=60, period=300,
                    evaluation_periods=1)
    result = simulate(policy, Workload(steps=((0, 10.0),), duration=1200))
    assert _outs(result)[:3] == [(300, 2), (360, 3), (420, 4)]
    assert [(e.t, e.action) for e in result.events if e.action == "at-max"][0] == (480, "at-max")


def test_the_cooldown_starts_when_the_scaling_activity_completes():
    """AWS, EC2 Auto Scaling User Guide, "Scaling cooldowns"
    (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-scaling-cooldowns.html):
    the cooldown "takes effect starting when the last instance finishes launching"; "Simple
    scaling policies" (.../simple-scaling-policies.html): a simple policy "must wait for an
    in-progress scaling activity ... to complete and a cooldown period to end".

    1..3 instances, 60 s periods, 1 evaluation period, cooldown 120 s, instances serve 120 s
    after launch, saturating demand. At 60 the first datapoint (100 %) fires: launch at 60,
    in service at 180, so the activity completes at 180 and the cooldown runs to 300. The
    alarm stays in ALARM (the new instance only serves from 180, and from then both are at
    100 %); the invocations at 120, 180 and 240 are ignored; at 300: +1. Counting the
    cooldown from the launch would have scaled at 180."""
    policy = Policy(mode="simple", min=1, max=3, desired=1, cooldown=120, period=60,
                    evaluation_periods=1, warmup=120)
    result = simulate(policy, Workload(steps=((0, 10.0),), duration=900))
    assert _outs(result) == [(60, 2), (300, 3)]


def test_target_tracking_ignores_the_cooldown_and_counts_warming_instances():
    """AWS, "Scaling cooldowns" (as above): "Target tracking and step scaling policies can
    initiate a scale-out activity immediately without waiting for the cooldown period to
    end. Instead, whenever your Auto Scaling group launches instances, the individual
    instances have a warmup period"; re:Post (as above): a warming instance does not count
    towards the group's capacity (the metric) until its warm-up completes.

    Target 50 %, 1..8, cooldown 600 s (must not matter), warm-up 120 s, demand 3/s.
    - 60, 120, 180: datapoints 100 (one instance). At 180, three above target: want
      ceil(1 x 100 / 50) = 2 -> 2 (the new one serves from 300).
    - 240, 300: still one in service at 100 %: want 2 = desired (the warming one counts):
      nothing.
    - 360: two in service at 100 % (demand 3 > 2): want ceil(2 x 100 / 50) = 4 -> 4 at 360,
      inside what would have been a 600 s cooldown.
    - 420, 480: two in service, want 4 = desired. 540: four in service, still at 100 %
      (the backlog: 2 x 300 + 1 x 180 = 780 drains at 1/s from 480): want 8 -> 8."""
    policy = Policy(mode="target", min=1, max=8, desired=1, target=50, cooldown=600,
                    warmup=120)
    result = simulate(policy, Workload(steps=((0, 3.0),), duration=600))
    assert _outs(result) == [(180, 2), (360, 4), (540, 8)]


def test_the_shipped_emr_spec_finishes_a_job_with_its_core_nodes(capsys):
    """EMR Management Guide, CloudWatch metrics: YARNMemoryAvailablePercentage is "the
    percentage of remaining memory available to YARN" over the cluster (core and task
    nodes both run NodeManagers), so the 2 core nodes work and report it.

    sample_data/clusters/emr.toml with job:10GB@10MB/s = 1000 instance-seconds; 0 task
    nodes at start. Before, the simulator counted only task nodes: no capacity, no
    datapoint, never finished. Now: the 2 core nodes do 2/s; the datapoint at 300 is 0 %
    free (< 15): +1 task node at 300 (warm-up 0). 600 done by 300; 400 left at 3/s: 399 in
    the 133 s to 433, the last 1 at 433: finished at 434 = 0:07:14. Billed: master + 2 core
    for 434 s (1302) + the task node 300..433 (134) = 1436 instance-seconds = 0.40 h."""
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    assert main(["cluster", "simulate", str(root / "sample_data/clusters/emr.toml"),
                 "--workload", "job:10GB@10MB/s"]) == 0
    out = capsys.readouterr().out
    assert "0:05:00          1  scale-out" in out
    assert "finished at 0:07:14" in out and "instance-hours: 0.40" in out
    assert "0..6 instances + 2 fixed (+ 1 master billed)" in out


def test_dataproc_scales_up_by_the_factor_of_average_pending_memory():
    """Dataproc, "Autoscale clusters" (https://cloud.google.com/dataproc/docs/concepts/
    configuring-clusters/autoscaling, How autoscaling works) and BasicYarnAutoscalingConfig
    (https://cloud.google.com/dataproc/docs/reference/rest/v1/projects.regions.autoscalingPolicies):
    the change is the average of pending minus available YARN memory over the cooldown
    period, in workers, times the scale-up factor ("1.0 will result in scaling up so that
    there is no pending memory remaining after the update": rounded up here).

    2 primary workers, secondary 0..30, cooldown 120 s, scale-up factor 0.5; a job of 2400
    instance-seconds in 60 s tasks. Over t = 0..119 both primaries are busy (available 0);
    pending after second t = (2400 - 2(t + 1)) / 60 tasks; the average is
    (2400 - 2 - 2 x 59.5) / 60 = 37.98 workers; x 0.5 = 18.99 -> 19 secondary workers at 120.
    2160 left at 21/s: 2142 by the end of 221, 18 at 222: finished at 223. Billed: master
    + 2 primaries x 223 (669) + 19 x 103 (1957) = 2626 instance-seconds."""
    policy = Policy(mode="dataproc", min=0, max=30, desired=0, cooldown=120, fixed=2,
                    overhead=1, scale_up_factor=0.5, task_seconds=60)
    result = simulate(policy, Workload(initial=2400, task_seconds=60))
    assert _outs(result) == [(120, 19)]
    assert result.finish == 223 and result.instance_seconds == 2626


def test_dataproc_scales_down_by_available_memory_and_drains_gracefully():
    """As above: scale-down factor 0.5 of the average available memory (rounded down: never
    below what the load uses), the next evaluation one cooldown after the update completes
    ("A scaling period starts after the update operation from the previous event has
    completed"), removed workers billed while they decommission
    (gracefulDecommissionTimeout: "the duration to wait for jobs to complete before
    forcefully removing workers"), here min(30 s timeout, 60 s tasks) = 30 s.

    2 primaries + 4 secondaries, demand 1/s for 300 s: 5 workers' memory available. At 120:
    -floor(0.5 x 5) = -2 -> 2 secondaries, draining until 150, next evaluation at 270;
    over 120..269 3 available: -floor(1.5) = -1 -> 1 at 270 (draining to 300). Billed: 3 x
    300 (master + primaries) + 4 x 120 + 2 x 150 + 2 x 30 (draining) + 1 x 30 + 1 x 30 =
    1800 instance-seconds."""
    policy = Policy(mode="dataproc", min=0, max=10, desired=4, cooldown=120, fixed=2,
                    overhead=1, scale_down_factor=0.5, decommission_timeout=30,
                    task_seconds=60)
    result = simulate(policy, Workload(steps=((0, 1.0),), duration=300))
    assert [(e.t, e.action, e.desired) for e in result.events[1:]] == [
        (120, "scale-in", 2), (270, "scale-in", 1)]
    assert result.finish == 300 and result.instance_seconds == 1800


def test_emr_managed_scaling_is_not_simulated(tmp_path):
    spec = tmp_path / "m.toml"
    spec.write_text('name = "m"\nshape = "emr"\n[emr]\nlog_uri = "s3://b/l/"\n'
                    '[scaling]\nmode = "managed"\n')
    assert main(["cluster", "simulate", str(spec), "--workload", "job:1GB@10MB/s"]) == 2
