"""Pure request builders for the EMR cluster.

Master, core and task instance groups; the task group (no HDFS, safe to shrink) carries
EMR automatic scaling rules built from the spec's thresholds (+/-adjustment with cooldown,
on a CloudWatch metric such as YARNMemoryAvailablePercentage), or the cluster gets a
managed scaling policy. A security configuration requires IMDSv2 on every node (and disk
encryption with a KMS key when the spec names one). Logs go to S3; the cluster terminates
itself when idle.
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Dict, List

from .aws_common import tag_list
from .plan import Ref, Step
from .spec import Spec, scale_out_above

ACTIVE_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]


def security_configuration(spec: Spec) -> Dict[str, Any]:
    conf: Dict[str, Any] = {"InstanceMetadataServiceConfiguration": {
        "MinimumInstanceMetadataServiceVersion": 2, "HttpPutResponseHopLimit": 1}}
    if spec.emr["kms_key"]:
        conf["EncryptionConfiguration"] = {
            "EnableInTransitEncryption": False, "EnableAtRestEncryption": True,
            "AtRestEncryptionConfiguration": {"LocalDiskEncryptionConfiguration": {
                "EncryptionKeyProviderType": "AwsKms", "AwsKmsKey": spec.emr["kms_key"],
                "EnableEbsEncryption": True}}}
    return conf


def scaling_rules(spec: Spec) -> Dict[str, Any]:
    """The task group's AutoScalingPolicy: one rule out, one rule in."""
    sc = spec.scaling
    above = scale_out_above(sc)
    rules = []
    for direction, sign, threshold, op in (
            ("out", 1, sc["scale_out_threshold"], "GREATER_THAN" if above else "LESS_THAN"),
            ("in", -1, sc["scale_in_threshold"], "LESS_THAN" if above else "GREATER_THAN")):
        rules.append({
            "Name": f"{spec.name}-scale-{direction}",
            "Description": f"invindex: {sign * sc['adjustment']:+d} task instance(s)",
            "Action": {"SimpleScalingPolicyConfiguration": {
                "AdjustmentType": "CHANGE_IN_CAPACITY",
                "ScalingAdjustment": sign * sc["adjustment"], "CoolDown": sc["cooldown"]}},
            "Trigger": {"CloudWatchAlarmDefinition": {
                "ComparisonOperator": op, "EvaluationPeriods": sc["evaluation_periods"],
                "MetricName": sc["metric"], "Namespace": "AWS/ElasticMapReduce",
                "Period": sc["period"], "Statistic": "AVERAGE", "Threshold": float(threshold),
                "Unit": "PERCENT",
                "Dimensions": [{"Key": "JobFlowId", "Value": "${emr.clusterId}"}]}},
        })
    return {"Constraints": {"MinCapacity": sc["min"], "MaxCapacity": sc["max"]}, "Rules": rules}


def managed_scaling(spec: Spec) -> Dict[str, Any]:
    """Managed scaling over core + task (the master never counts); core stays fixed so
    HDFS never shrinks."""
    core, sc = spec.emr["core_count"], spec.scaling
    return {"ComputeLimits": {"UnitType": "Instances",
                              "MinimumCapacityUnits": core + sc["min"],
                              "MaximumCapacityUnits": core + sc["max"],
                              "MaximumCoreCapacityUnits": core}}


def bootstrap_actions(spec: Spec) -> List[Dict[str, Any]]:
    """Nothing by default: the job ships invindex.zip, and a failing bootstrap action stops
    the cluster from starting. A staged wheel is copied and installed without PyPI
    (--no-index --no-deps: no name is ever resolved there). The node-side code runs on
    EMR's Python 3.9 though the package as a whole requires 3.11, hence
    --ignore-requires-python."""
    e = spec.emr
    if e["bootstrap_script"]:
        return [{"Name": "bootstrap", "ScriptBootstrapAction": {
            "Path": e["bootstrap_script"], "Args": []}}]
    if not e["install"]:
        return []
    wheel = e["install"].rsplit("/", 1)[1]
    script = (f"set -e; aws s3 cp {shlex.quote(e['install'])} /tmp/{wheel}; "
              f"sudo python3 -m pip install --quiet --no-index --no-deps "
              f"--ignore-requires-python /tmp/{wheel}")
    return [{"Name": "install invindex wheel", "ScriptBootstrapAction": {
        "Path": "file:/bin/bash", "Args": ["-c", script]}}]


def emr_steps(spec: Spec, ctx: Dict[str, Any]) -> List[Step]:
    e, sc = spec.emr, spec.scaling
    groups: List[Dict[str, Any]] = [
        {"Name": "master", "InstanceRole": "MASTER", "InstanceType": e["master_type"],
         "InstanceCount": 1},
        {"Name": "core", "InstanceRole": "CORE", "InstanceType": e["core_type"],
         "InstanceCount": e["core_count"]},
    ]
    if sc["mode"] != "none" or sc["desired"] > 0:
        task = {"Name": "task", "InstanceRole": "TASK", "InstanceType": e["task_type"],
                "InstanceCount": sc["desired"]}
        if sc["mode"] == "simple":
            task["AutoScalingPolicy"] = scaling_rules(spec)
        groups.append(task)
    instances: Dict[str, Any] = {"InstanceGroups": groups, "KeepJobFlowAliveWhenNoSteps": True,
                                 "TerminationProtected": False}
    if ctx.get("subnets"):
        instances["Ec2SubnetId"] = ctx["subnets"][0][0]
    if spec.machine["key_name"]:
        instances["Ec2KeyName"] = spec.machine["key_name"]
    params: Dict[str, Any] = {
        "Name": spec.name, "ReleaseLabel": e["release_label"], "LogUri": e["log_uri"],
        "Applications": [{"Name": a} for a in e["applications"]],
        "Instances": instances,
        "ServiceRole": e["service_role"], "JobFlowRole": e["instance_profile"],
        "SecurityConfiguration": Ref("emr_security_configuration"),
        "VisibleToAllUsers": True, "Tags": tag_list(spec.all_tags()),
    }
    if bootstrap_actions(spec):
        params["BootstrapActions"] = bootstrap_actions(spec)
    if e["idle_timeout"]:
        params["AutoTerminationPolicy"] = {"IdleTimeout": e["idle_timeout"]}
    if sc["mode"] == "simple":
        params["AutoScalingRole"] = e["autoscaling_role"]
    scaling = {"simple": f"task group {sc['min']}..{sc['max']}, {sc['metric']} rules",
               "managed": f"managed scaling, task {sc['min']}..{sc['max']}",
               "none": "no autoscaling"}[sc["mode"]]
    steps = [
        Step("emr_security_configuration", f"{spec.name}-security", {
            "Name": f"{spec.name}-security",
            "SecurityConfiguration": json.dumps(security_configuration(spec), sort_keys=True)},
            summary="IMDSv2 required" + (", EBS + local disks encrypted with KMS"
                                         if e["kms_key"] else "")),
        Step("emr_cluster", spec.name, params,
             summary=f"{e['release_label']}, 1 master + {e['core_count']} core + "
                     f"{sc['desired']} task, {scaling}, logs {e['log_uri']}, idle "
                     f"{e['idle_timeout']} s"),
    ]
    if sc["mode"] == "managed":
        steps.append(Step("emr_managed_scaling", f"{spec.name}-managed-scaling", {
            "ClusterId": Ref("emr_cluster"), "ManagedScalingPolicy": managed_scaling(spec)},
            summary="core fixed, task scales"))
    return steps
