"""Handlers for EMR: the security configuration, the cluster (its task group's automatic
scaling rules compared and changed in place) and its managed scaling policy. Side effects
only; the bodies come from ``aws_emr``."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from .aws_common import Aws, error_code
from .aws_emr import ACTIVE_STATES
from .aws_resources import _except, _Handler
from .engine import wait_for
from .plan import Fields, Step, diff_fields


class EmrSecurityConfigurations(_Handler):
    """Security configurations carry no tags: they are found by the name derived from the
    cluster name."""

    def _emr(self) -> Any:
        return self.aws.client("emr")

    def _exists(self, name: str) -> bool:
        try:
            self._emr().describe_security_configuration(Name=name)
        except Exception as e:
            if error_code(e) == "InvalidRequestException":
                return False
            raise
        return True

    def find(self, step: Step, params: Dict) -> str | None:
        return step.name if self._exists(step.name) else None

    def create(self, step: Step, params: Dict) -> str:
        self._emr().create_security_configuration(**params)
        return params["Name"]

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Security configurations cannot be modified (and a cluster keeps the one it was
        created with)."""
        found = self._emr().describe_security_configuration(Name=rid)
        return {}, diff_fields(json.loads(params["SecurityConfiguration"]),
                               json.loads(found["SecurityConfiguration"]), "SecurityConfiguration")

    def delete(self, rid: str) -> None:
        self._emr().delete_security_configuration(Name=rid)

    def find_all(self) -> List[str]:
        mine = f"{self.aws.cluster}-security"
        return [mine] if self._exists(mine) else []


class EmrClusters(_Handler):
    def _emr(self) -> Any:
        return self.aws.client("emr")

    def _owned(self, states: List[str]) -> List[Dict[str, Any]]:
        found = []
        for page in self._emr().get_paginator("list_clusters").paginate(ClusterStates=states):
            for c in page["Clusters"]:
                cluster = self._emr().describe_cluster(ClusterId=c["Id"])["Cluster"]
                if self.aws.owns(cluster.get("Tags")):
                    found.append(cluster)
        return found

    def find(self, step: Step, params: Dict) -> str | None:
        live = [s for s in ACTIVE_STATES if s != "TERMINATING"]
        found = [c for c in self._owned(live) if c["Name"] == step.name]
        return found[0]["Id"] if found else None

    def create(self, step: Step, params: Dict) -> str:
        return self._emr().run_job_flow(**params)["JobFlowId"]

    def _groups(self, rid: str) -> Dict[str, Dict[str, Any]]:
        groups = self._emr().list_instance_groups(ClusterId=rid)["InstanceGroups"]
        return {g["InstanceGroupType"]: g for g in groups}

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """The task group's automatic scaling policy changes in place (put, or removed when
        the spec has none: managed or no scaling), and a task group the spec no longer has
        is resized to 0 (EMR cannot remove an instance group; an empty one costs nothing);
        the release, logs, instance types and the core count (HDFS) only with a new
        cluster, as does a task group added to a cluster without one."""
        c = self._emr().describe_cluster(ClusterId=rid)["Cluster"]
        replace = diff_fields({k: params[k] for k in ("ReleaseLabel", "LogUri")}, c)
        groups, update = self._groups(rid), {}
        wanted = {g["InstanceRole"]: g for g in params["Instances"]["InstanceGroups"]}
        for role, want in wanted.items():
            have = groups.get(role)
            if have is None:
                replace[f"{role.lower()} group"] = (None, want["InstanceType"])
                continue
            fixed = {"InstanceType": want["InstanceType"]}
            if role != "TASK":
                fixed["RequestedInstanceCount"] = want["InstanceCount"]
            replace.update(diff_fields({role.lower(): fixed}, {role.lower(): have}))
        task = groups.get("TASK")
        if task is not None:
            want = _emr_policy(wanted.get("TASK", {}).get("AutoScalingPolicy"))
            have = _emr_policy(task.get("AutoScalingPolicy"))
            if want is None or have is None:  # put or removed as a whole
                update.update({"task.AutoScalingPolicy": (have, want)} if want != have else {})
            else:
                update.update(diff_fields({"task": {"AutoScalingPolicy": want}},
                                          {"task": {"AutoScalingPolicy": have}}))
            if "TASK" not in wanted and task.get("RequestedInstanceCount"):
                update["task.InstanceCount"] = (task["RequestedInstanceCount"], 0)
        return update, replace

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        task = next((g for g in params["Instances"]["InstanceGroups"]
                     if g["InstanceRole"] == "TASK"), {})
        group = self._groups(rid)["TASK"]["Id"]
        if any(k.startswith("task.AutoScalingPolicy") for k in fields):
            if task.get("AutoScalingPolicy"):
                # EMR refuses rules beside managed scaling: a managed policy the spec no
                # longer asks for (shown by `plan` as remove, confirmed) goes first
                managed = EmrManagedScaling(self.aws)
                if managed.find(step, {"ClusterId": rid}):
                    managed.delete(rid)
                self._emr().put_auto_scaling_policy(ClusterId=rid, InstanceGroupId=group,
                                                    AutoScalingPolicy=task["AutoScalingPolicy"])
            else:
                self._emr().remove_auto_scaling_policy(ClusterId=rid, InstanceGroupId=group)
        if "task.InstanceCount" in fields:
            self._emr().modify_instance_groups(ClusterId=rid, InstanceGroups=[
                {"InstanceGroupId": group, "InstanceCount": 0}])
        return rid

    def delete(self, rid: str) -> None:
        self._emr().set_termination_protection(JobFlowIds=[rid], TerminationProtected=False)
        self._emr().terminate_job_flows(JobFlowIds=[rid])
        wait_for(lambda: self._state(rid).startswith("TERMINATED"),
                 f"EMR cluster {rid} to terminate")

    def _state(self, rid: str) -> str:
        return self._emr().describe_cluster(ClusterId=rid)["Cluster"]["Status"]["State"]

    def find_all(self) -> List[str]:
        return [c["Id"] for c in self._owned(ACTIVE_STATES)]

    def describe(self, rid: str) -> str:
        c = self._emr().describe_cluster(ClusterId=rid)["Cluster"]
        groups = self._emr().list_instance_groups(ClusterId=rid)["InstanceGroups"]
        sizes = ", ".join(f"{g['InstanceGroupType'].lower()} {g.get('RunningInstanceCount', 0)}"
                          f"/{g.get('RequestedInstanceCount', 0)}" for g in groups)
        return (f"{rid} {c['Status']['State']} {c.get('ReleaseLabel', '')} "
                f"master {c.get('MasterPublicDnsName') or '-'}; running/requested: {sizes}")


def _emr_policy(policy: Dict[str, Any] | None) -> Dict[str, Any] | None:
    """The comparable part of an automatic scaling policy: limits and, per rule, action and
    trigger without dimensions (EMR answers with the cluster id in place of
    ``${emr.clusterId}``); None for none."""
    if not policy or not policy.get("Rules"):
        return None
    rules = {}
    for r in policy.get("Rules", []):
        alarm = _except(r.get("Trigger", {}).get("CloudWatchAlarmDefinition", {}), "Dimensions")
        rules[r["Name"]] = {"Action": r.get("Action"), "Alarm": alarm}
    return {"Constraints": policy.get("Constraints"), "Rules": rules}


class EmrManagedScaling(_Handler):
    """A setting of its cluster (id: the cluster's), put again when the limits change and
    removed when the spec stops asking for it; it goes with its cluster at `down`."""

    def _emr(self) -> Any:
        return self.aws.client("emr")

    def _get(self, cluster: str) -> Dict[str, Any] | None:
        found = self._emr().get_managed_scaling_policy(ClusterId=cluster)
        return found.get("ManagedScalingPolicy") or None

    def find(self, step: Step, params: Dict) -> str | None:
        return params["ClusterId"] if self._get(params["ClusterId"]) else None

    def create(self, step: Step, params: Dict) -> str:
        self._emr().put_managed_scaling_policy(**params)
        return params["ClusterId"]

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """PutManagedScalingPolicy replaces the limits in place."""
        return diff_fields({"ManagedScalingPolicy": params["ManagedScalingPolicy"]},
                           {"ManagedScalingPolicy": self._get(rid)}), {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        return self.create(step, params)

    def delete(self, rid: str) -> None:
        self._emr().remove_managed_scaling_policy(ClusterId=rid)

    def find_all(self) -> List[str]:
        """The cluster's id when it has a policy (what `up` removes when the spec switches
        to another mode); `down` terminates the cluster, which takes its policy with it."""
        return [c for c in EmrClusters(self.aws).find_all() if self._get(c)]


def emr_handlers(aws: Aws) -> Dict[str, Any]:
    return {"emr_security_configuration": EmrSecurityConfigurations(aws),
            "emr_cluster": EmrClusters(aws), "emr_managed_scaling": EmrManagedScaling(aws)}
