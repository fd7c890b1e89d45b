"""Pure request builders for the EC2 worker fleet.

Launch template -> Auto Scaling group over the subnets -> either two simple scaling
policies (+adjustment / -adjustment, cooldown) fired by two CloudWatch alarms on the
group's average metric (the tutorial's 70 % / 40 % over two 60 s periods), or one target
tracking policy. A launch *template*, never a launch configuration (new accounts cannot
create those any more).
"""

from __future__ import annotations

from typing import Any, Dict, List

from ..errors import UsageError
from .aws_common import tag_list
from .aws_instance import encode_user_data, launch_data, security_group_step
from .plan import Ref, Step
from .spec import Spec, scale_out_above


def fleet_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    name, sc = spec.name, spec.scaling
    asg = f"{name}-asg"
    data = launch_data(spec, ctx, f"{name}-worker")
    user_data = spec.user_data()
    if user_data:
        data["UserData"] = encode_user_data(user_data)
    if needs_detailed_monitoring(sc):
        data["Monitoring"] = {"Enabled": True}
    subnets = [s for s, _ in ctx["subnets"]]
    steps = [
        security_group_step(spec, ctx, peers=True),
        Step("launch_template", f"{name}-lt", {
            "LaunchTemplateName": f"{name}-lt",
            "VersionDescription": "invindex",
            "LaunchTemplateData": data,
            "TagSpecifications": [{"ResourceType": "launch-template",
                                   "Tags": tag_list(spec.all_tags())}],
        }, summary=f"{spec.machine['type']} {ctx['image_id']}, IMDSv2, encrypted root"
                   + (", detailed monitoring" if "Monitoring" in data else "")),
        Step("auto_scaling_group", asg, {
            "AutoScalingGroupName": asg,
            "LaunchTemplate": {"LaunchTemplateId": Ref("launch_template"), "Version": "$Default"},
            "MinSize": sc["min"], "MaxSize": sc["max"], "DesiredCapacity": sc["desired"],
            "DefaultCooldown": sc["cooldown"],
            "VPCZoneIdentifier": ",".join(subnets),
            "Tags": [{"Key": t["Key"], "Value": t["Value"], "PropagateAtLaunch": True,
                      "ResourceId": asg, "ResourceType": "auto-scaling-group"}
                     for t in tag_list(spec.all_tags())],
        }, summary=f"min {sc['min']} / desired {sc['desired']} / max {sc['max']} over "
                   f"{len(subnets)} subnet(s) in "
                   f"{', '.join(sorted({z for _, z in ctx['subnets']}))}"),
    ]
    if sc["mode"] == "simple":
        steps += simple_scaling_steps(spec, asg)
    elif sc["mode"] == "target":
        steps.append(target_tracking_step(spec, asg))
    return steps


def needs_detailed_monitoring(scaling: Dict[str, Any]) -> bool:
    """Basic monitoring sends EC2 metrics every 5 minutes: an alarm with a shorter period
    would see no datapoints in most periods, so its instances need detailed monitoring."""
    return scaling["mode"] == "simple" and scaling["period"] < 300


def simple_scaling_steps(spec: Spec, asg: str) -> List[Step]:
    """Two ChangeInCapacity policies and the two alarms whose actions are their ARNs."""
    sc = spec.scaling
    above = scale_out_above(sc)
    steps = []
    for direction, sign, threshold, op in (
            ("out", 1, sc["scale_out_threshold"], "GreaterThanThreshold" if above
             else "LessThanThreshold"),
            ("in", -1, sc["scale_in_threshold"], "LessThanThreshold" if above
             else "GreaterThanThreshold")):
        policy = f"{spec.name}-scale-{direction}"
        steps.append(Step("scaling_policy", policy, {
            "AutoScalingGroupName": asg, "PolicyName": policy, "PolicyType": "SimpleScaling",
            "AdjustmentType": "ChangeInCapacity", "ScalingAdjustment": sign * sc["adjustment"],
            "Cooldown": sc["cooldown"],
        }, key=f"policy_{direction}",
            summary=f"{sign * sc['adjustment']:+d} instance(s), cooldown {sc['cooldown']} s"))
        alarm = f"{spec.name}-{sc['metric'].lower()}-{'high' if op[0] == 'G' else 'low'}"
        steps.append(Step("alarm", alarm, {
            "AlarmName": alarm,
            "AlarmDescription": f"invindex {spec.name}: scale {direction}",
            "Namespace": "AWS/EC2", "MetricName": sc["metric"], "Statistic": "Average",
            "Dimensions": [{"Name": "AutoScalingGroupName", "Value": asg}],
            "Period": sc["period"], "EvaluationPeriods": sc["evaluation_periods"],
            "DatapointsToAlarm": sc["evaluation_periods"],
            "Threshold": float(threshold), "ComparisonOperator": op,
            "AlarmActions": [Ref(f"policy_{direction}")],
            "Tags": tag_list(spec.all_tags()),
        }, key=f"alarm_{direction}",
            summary=f"average {sc['metric']} {'>' if op[0] == 'G' else '<'} {threshold:g} for "
                    f"{sc['evaluation_periods']} x {sc['period']} s -> scale-{direction}"))
    return steps


def target_tracking_step(spec: Spec, asg: str) -> Step:
    sc = spec.scaling
    metric = {"CPUUtilization": "ASGAverageCPUUtilization"}.get(sc["metric"])
    if metric is None:
        raise UsageError("scaling.mode = \"target\" tracks CPUUtilization only")
    params: Dict[str, Any] = {
        "AutoScalingGroupName": asg, "PolicyName": f"{spec.name}-target",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingConfiguration": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
            "TargetValue": float(sc["target"])},
    }
    if sc["warmup"]:
        params["EstimatedInstanceWarmup"] = sc["warmup"]
    return Step("scaling_policy", f"{spec.name}-target", params, key="policy_target",
                summary=f"keep average CPU near {sc['target']:g} % (AWS manages the alarms)")
