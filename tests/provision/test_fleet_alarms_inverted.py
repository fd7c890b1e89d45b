"""A fleet that scales out when its metric is *low*, against moto's server.

With ``scale_out_threshold`` below ``scale_in_threshold`` (here EC2's
``CPUCreditBalance``: burstable instances out of credits need company) the scale-out
alarm is ``LessThanThreshold`` and the scale-in alarm ``GreaterThanThreshold``: two
alarms with their own names, each wired to its own policy. Were both operators the same,
both alarms would get one name and the second PutMetricAlarm would silently replace the
first. moto stores alarms (it never evaluates them), so the wiring is what is asserted.
"""

from __future__ import annotations

import textwrap

import boto3

from invindex.cli import main
from invindex.provision import api
from invindex.provision.spec import load_spec

SPEC = """
    name = "t-inv"
    shape = "fleet"
    [aws]
    region = "us-east-1"
    [scaling]
    min = 1
    max = 3
    desired = 1
    metric = "CPUCreditBalance"
    scale_out_threshold = 20.0
    scale_in_threshold = 100.0
"""


def test_scale_out_when_low_makes_two_alarms_with_the_right_operators(aws, tmp_path,
                                                                      capsys):
    spec = tmp_path / "inv.toml"
    spec.write_text(textwrap.dedent(SPEC))

    plan, _ = api.make_plan(load_spec(spec))
    text = plan.text(full=True)
    assert "alarm t-inv-cpucreditbalance-low: average CPUCreditBalance < 20 for 2 x 60 s " \
           "-> scale-out" in text
    assert "alarm t-inv-cpucreditbalance-high: average CPUCreditBalance > 100 for 2 x 60 s " \
           "-> scale-in" in text

    assert main(["cluster", "up", str(spec)]) == 0
    assert "7 created, 0 already there" in capsys.readouterr().out
    policies = {p["PolicyName"]: p["PolicyARN"] for p in boto3.client(
        "autoscaling", region_name="us-east-1").describe_policies(
        AutoScalingGroupName="t-inv-asg")["ScalingPolicies"]}
    alarms = boto3.client("cloudwatch", region_name="us-east-1").describe_alarms()[
        "MetricAlarms"]
    got = sorted((a["AlarmName"], a["ComparisonOperator"], a["Threshold"], a["AlarmActions"])
                 for a in alarms)
    assert got == [
        ("t-inv-cpucreditbalance-high", "GreaterThanThreshold", 100.0,
         [policies["t-inv-scale-in"]]),
        ("t-inv-cpucreditbalance-low", "LessThanThreshold", 20.0,
         [policies["t-inv-scale-out"]]),
    ]
    assert all(a["MetricName"] == "CPUCreditBalance" and a["Namespace"] == "AWS/EC2"
               for a in alarms)

    assert main(["cluster", "status", "t-inv"]) == 0
    shown = capsys.readouterr().out
    assert "t-inv-cpucreditbalance-low" in shown and "t-inv-cpucreditbalance-high" in shown
    assert main(["cluster", "down", str(spec)]) == 0
    assert "7 resource(s) deleted" in capsys.readouterr().out
