"""One handler per AWS resource kind: find (by tag and name), create, delete, list by tag.

Only side effects live here; every request body comes from the pure builders. A resource
with our name but without our tag is never adopted or deleted: that is someone else's.
"""

from __future__ import annotations

from typing import Any, Dict, List

from ..errors import InvindexError
from .aws_common import Aws, error_code
from .aws_emr import ACTIVE_STATES
from .engine import wait_for
from .plan import Step
from .spec import MANAGED_BY, TAG_CLUSTER, TAG_MANAGED

_LIVE = ["pending", "running", "stopping", "stopped", "shutting-down"]


def _not_ours(kind: str, name: str) -> InvindexError:
    return InvindexError(f"a {kind} named {name} exists but is not tagged for this cluster; "
                         "rename the cluster or remove it")


class _Handler:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    def describe(self, rid: str) -> str:
        return rid


class SecurityGroups(_Handler):
    def _ec2(self) -> Any:
        return self.aws.client("ec2")

    def find(self, step: Step, params: Dict) -> str | None:
        groups = self._ec2().describe_security_groups(Filters=[
            {"Name": "group-name", "Values": [step.name]},
            {"Name": "vpc-id", "Values": [params["VpcId"]]}])["SecurityGroups"]
        for g in groups:
            if not self.aws.owns(g.get("Tags")):
                raise _not_ours("security group", step.name)
            return g["GroupId"]
        return None

    def create(self, step: Step, params: Dict) -> str:
        params = dict(params)
        rules, peers = params.pop("IpPermissions"), params.pop("AllowPeers")
        gid = self._ec2().create_security_group(**params)["GroupId"]
        try:
            if peers:
                rules = rules + [{"IpProtocol": "-1", "UserIdGroupPairs": [
                    {"GroupId": gid, "Description": "cluster members"}]}]
            if rules:
                self._ec2().authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        except Exception:
            self.delete(gid)
            raise
        return gid

    def delete(self, rid: str) -> None:
        def attempt() -> bool:  # ENIs of terminated instances linger for a while
            try:
                self._ec2().delete_security_group(GroupId=rid)
            except Exception as e:
                if error_code(e) == "DependencyViolation":
                    return False
                if error_code(e) != "InvalidGroup.NotFound":
                    raise
            return True
        wait_for(attempt, f"security group {rid} to be unused")

    def find_all(self) -> List[str]:
        groups = self._ec2().describe_security_groups(Filters=self.aws.tag_filter)
        return [g["GroupId"] for g in groups["SecurityGroups"]]

    def describe(self, rid: str) -> str:
        g = self._ec2().describe_security_groups(GroupIds=[rid])["SecurityGroups"][0]
        inbound = []
        for p in g["IpPermissions"]:
            port = "all" if p["IpProtocol"] == "-1" else f"{p['IpProtocol']}/{p.get('FromPort')}"
            sources = [r["CidrIp"] for r in p.get("IpRanges", [])] + \
                [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])] + \
                ["group " + r["GroupId"] for r in p.get("UserIdGroupPairs", [])]
            inbound.append(f"{port} from {', '.join(sources)}")
        return f"{rid} {g['GroupName']} inbound: {'; '.join(inbound) or 'nothing'}"


class LaunchTemplates(_Handler):
    def _ec2(self) -> Any:
        return self.aws.client("ec2")

    def find(self, step: Step, params: Dict) -> str | None:
        found = self._ec2().describe_launch_templates(Filters=[
            {"Name": "launch-template-name", "Values": [step.name]}])["LaunchTemplates"]
        for t in found:
            if not self.aws.owns(t.get("Tags")):
                raise _not_ours("launch template", step.name)
            return t["LaunchTemplateId"]
        return None

    def create(self, step: Step, params: Dict) -> str:
        return self._ec2().create_launch_template(**params)["LaunchTemplate"]["LaunchTemplateId"]

    def delete(self, rid: str) -> None:
        try:
            self._ec2().delete_launch_template(LaunchTemplateId=rid)
        except Exception as e:
            if "NotFound" not in error_code(e):
                raise

    def find_all(self) -> List[str]:
        found = self._ec2().describe_launch_templates(Filters=self.aws.tag_filter)
        return [t["LaunchTemplateId"] for t in found["LaunchTemplates"]]

    def describe(self, rid: str) -> str:
        t = self._ec2().describe_launch_templates(LaunchTemplateIds=[rid])["LaunchTemplates"][0]
        return f"{rid} {t['LaunchTemplateName']} default version {t['DefaultVersionNumber']}"


class AutoScalingGroups(_Handler):
    def _asg(self) -> Any:
        return self.aws.client("autoscaling")

    def _get(self, name: str) -> Dict[str, Any] | None:
        groups = self._asg().describe_auto_scaling_groups(
            AutoScalingGroupNames=[name])["AutoScalingGroups"]
        return groups[0] if groups else None

    def find(self, step: Step, params: Dict) -> str | None:
        group = self._get(step.name)
        if group is None:
            return None
        if not self.aws.owns(group.get("Tags")):
            raise _not_ours("Auto Scaling group", step.name)
        return step.name

    def create(self, step: Step, params: Dict) -> str:
        self._asg().create_auto_scaling_group(**params)
        return params["AutoScalingGroupName"]

    def delete(self, rid: str) -> None:
        if self._get(rid) is None:
            return
        for policy in self._asg().describe_policies(AutoScalingGroupName=rid)["ScalingPolicies"]:
            self._asg().delete_policy(AutoScalingGroupName=rid, PolicyName=policy["PolicyName"])
        self._asg().delete_auto_scaling_group(AutoScalingGroupName=rid, ForceDelete=True)
        wait_for(lambda: self._get(rid) is None, f"Auto Scaling group {rid} to be deleted")

    def find_all(self) -> List[str]:
        groups = self._asg().describe_auto_scaling_groups(Filters=[
            {"Name": f"tag:{TAG_CLUSTER}", "Values": [self.aws.cluster]},
            {"Name": f"tag:{TAG_MANAGED}", "Values": [MANAGED_BY]}])["AutoScalingGroups"]
        return [g["AutoScalingGroupName"] for g in groups]

    def describe(self, rid: str) -> str:
        g = self._get(rid) or {}
        serving = [i for i in g.get("Instances", []) if i["LifecycleState"] == "InService"]
        return (f"{rid} desired {g.get('DesiredCapacity')} (min {g.get('MinSize')}, max "
                f"{g.get('MaxSize')}), {len(serving)} in service, zones "
                f"{','.join(g.get('AvailabilityZones', []))}")


def _asg_of(policy_arn: str) -> str:
    return policy_arn.split(":autoScalingGroupName/")[1].split(":policyName/")[0]


class ScalingPolicies(_Handler):
    def _asg(self) -> Any:
        return self.aws.client("autoscaling")

    def _arn(self, group: str, name: str) -> str | None:
        found = self._asg().describe_policies(AutoScalingGroupName=group,
                                              PolicyNames=[name])["ScalingPolicies"]
        return found[0]["PolicyARN"] if found else None

    def find(self, step: Step, params: Dict) -> str | None:
        return self._arn(params["AutoScalingGroupName"], step.name)

    def create(self, step: Step, params: Dict) -> str:
        arn = self._asg().put_scaling_policy(**params).get("PolicyARN")
        # moto's response lacks PolicyARN; read it back, as a real client may too
        arn = arn or self._arn(params["AutoScalingGroupName"], params["PolicyName"])
        if not arn:
            raise InvindexError(f"scaling policy {step.name} was not created")
        return arn

    def delete(self, rid: str) -> None:
        try:
            self._asg().delete_policy(AutoScalingGroupName=_asg_of(rid), PolicyName=rid)
        except Exception as e:
            if error_code(e) != "ValidationError":
                raise

    def find_all(self) -> List[str]:
        arns = []
        for group in AutoScalingGroups(self.aws).find_all():
            arns += [p["PolicyARN"] for p in self._asg().describe_policies(
                AutoScalingGroupName=group)["ScalingPolicies"]]
        return arns

    def describe(self, rid: str) -> str:
        p = self._asg().describe_policies(AutoScalingGroupName=_asg_of(rid))["ScalingPolicies"]
        p = next((x for x in p if x["PolicyARN"] == rid), {})
        if p.get("PolicyType") == "TargetTrackingScaling":
            return f"{p['PolicyName']} target tracking " \
                   f"{p['TargetTrackingConfiguration']['TargetValue']:g}"
        return f"{p.get('PolicyName')} {p.get('ScalingAdjustment', 0):+d} cooldown " \
               f"{p.get('Cooldown')} s"


class Alarms(_Handler):
    def _cw(self) -> Any:
        return self.aws.client("cloudwatch")

    def find(self, step: Step, params: Dict) -> str | None:
        for alarm in self._cw().describe_alarms(AlarmNames=[step.name])["MetricAlarms"]:
            tags = self._cw().list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
            if not self.aws.owns(tags):
                raise _not_ours("CloudWatch alarm", step.name)
            return step.name
        return None

    def create(self, step: Step, params: Dict) -> str:
        self._cw().put_metric_alarm(**params)
        return params["AlarmName"]

    def delete(self, rid: str) -> None:
        self._cw().delete_alarms(AlarmNames=[rid])

    def find_all(self) -> List[str]:
        tagging = self.aws.client("resourcegroupstaggingapi")
        names, token = [], ""
        while True:
            page = tagging.get_resources(
                ResourceTypeFilters=["cloudwatch:alarm"], PaginationToken=token,
                TagFilters=[{"Key": TAG_CLUSTER, "Values": [self.aws.cluster]},
                            {"Key": TAG_MANAGED, "Values": [MANAGED_BY]}])
            names += [r["ResourceARN"].split(":alarm:", 1)[1]
                      for r in page["ResourceTagMappingList"]]
            token = page.get("PaginationToken", "")
            if not token:
                return names

    def describe(self, rid: str) -> str:
        a = self._cw().describe_alarms(AlarmNames=[rid])["MetricAlarms"]
        if not a:
            return f"{rid} (gone)"
        a = a[0]
        op = {"GreaterThanThreshold": ">", "LessThanThreshold": "<"}.get(
            a["ComparisonOperator"], a["ComparisonOperator"])
        return (f"{rid} {a['StateValue']}: {a['Statistic'].lower()} {a['MetricName']} {op} "
                f"{a['Threshold']:g} for {a['EvaluationPeriods']} x {a['Period']} s")


class Instances(_Handler):
    def _ec2(self) -> Any:
        return self.aws.client("ec2")

    def _live(self, extra: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        pages = self._ec2().get_paginator("describe_instances").paginate(
            Filters=self.aws.tag_filter + extra + [
                {"Name": "instance-state-name", "Values": _LIVE}])
        return [i for page in pages for r in page["Reservations"] for i in r["Instances"]]

    def find(self, step: Step, params: Dict) -> str | None:
        found = self._live([{"Name": "tag:Name", "Values": [step.name]}])
        return found[0]["InstanceId"] if found else None

    def create(self, step: Step, params: Dict) -> str:
        return self._ec2().run_instances(**params)["Instances"][0]["InstanceId"]

    def delete(self, rid: str) -> None:
        self._ec2().terminate_instances(InstanceIds=[rid])
        wait_for(lambda: self._state(rid) == "terminated", f"instance {rid} to terminate")

    def _state(self, rid: str) -> str:
        found = self._ec2().describe_instances(InstanceIds=[rid])["Reservations"]
        return found[0]["Instances"][0]["State"]["Name"] if found else "terminated"

    def find_all(self) -> List[str]:
        # EMR's nodes carry the cluster tags too, but belong to (and go with) the EMR cluster
        return [i["InstanceId"] for i in self._live([])
                if i["State"]["Name"] != "shutting-down" and not any(
                    t["Key"] == "aws:elasticmapreduce:job-flow-id" for t in i.get("Tags", []))]

    def describe(self, rid: str) -> str:
        i = self._ec2().describe_instances(InstanceIds=[rid])["Reservations"][0]["Instances"][0]
        return (f"{rid} {i['State']['Name']} {i['InstanceType']} "
                f"{i.get('Placement', {}).get('AvailabilityZone', '')} "
                f"{i.get('PrivateIpAddress', '')} {i.get('PublicIpAddress', '')}".rstrip())


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


class EmrManagedScaling(_Handler):
    """Lives and dies with its cluster; moto does not implement it (tests check the request)."""

    def _emr(self) -> Any:
        return self.aws.client("emr")

    def find(self, step: Step, params: Dict) -> str | None:
        found = self._emr().get_managed_scaling_policy(ClusterId=params["ClusterId"])
        return params["ClusterId"] if found.get("ManagedScalingPolicy") else None

    def create(self, step: Step, params: Dict) -> str:
        self._emr().put_managed_scaling_policy(**params)
        return params["ClusterId"]

    def delete(self, rid: str) -> None:
        self._emr().remove_managed_scaling_policy(ClusterId=rid)

    def find_all(self) -> List[str]:
        return []


TEARDOWN = ["emr_managed_scaling", "emr_cluster", "emr_security_configuration", "alarm",
            "scaling_policy", "auto_scaling_group", "instance", "launch_template",
            "security_group"]


def handlers(aws: Aws) -> Dict[str, Any]:
    return {"security_group": SecurityGroups(aws), "launch_template": LaunchTemplates(aws),
            "auto_scaling_group": AutoScalingGroups(aws), "scaling_policy": ScalingPolicies(aws),
            "alarm": Alarms(aws), "instance": Instances(aws),
            "emr_security_configuration": EmrSecurityConfigurations(aws),
            "emr_cluster": EmrClusters(aws), "emr_managed_scaling": EmrManagedScaling(aws)}
