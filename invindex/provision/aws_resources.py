"""One handler per EC2, Auto Scaling and CloudWatch resource kind: find (by tag and name),
create, delete, list by tag (EMR's: ``aws_emr_resources``; the databases': ``aws_db_resources``).

Only side effects live here; every request body comes from the pure builders. A resource
with our name but without our tag is never adopted or deleted: that is someone else's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Set, Tuple

from ..errors import InvindexError
from .aws_common import Aws, error_code
from .engine import wait_for
from .plan import Fields, Step, diff_fields
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

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Inbound rules change in place; the description and VPC only with a new group."""
        g = self._ec2().describe_security_groups(GroupIds=[rid])["SecurityGroups"][0]
        replace = diff_fields({"Description": params["Description"], "VpcId": params["VpcId"]},
                              g)
        have, want = _cidr_rules(g["IpPermissions"]), _cidr_rules(params["IpPermissions"])
        return ({"ingress": (_show_rules(have), _show_rules(want))} if have != want else {},
                replace)

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        g = self._ec2().describe_security_groups(GroupIds=[rid])["SecurityGroups"][0]
        have, want = _cidr_rules(g["IpPermissions"]), _cidr_rules(params["IpPermissions"])
        if want - have:
            self._ec2().authorize_security_group_ingress(
                GroupId=rid, IpPermissions=[_cidr_permission(r, step.name) for r in want - have])
        if have - want:
            self._ec2().revoke_security_group_ingress(
                GroupId=rid, IpPermissions=[_cidr_permission(r) for r in have - want])
        return rid

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


Rule = Tuple[str, int, int, str]  # protocol, from port, to port, CIDR


def _cidr_rules(permissions: List[Dict[str, Any]]) -> Set[Rule]:
    """The CIDR rules of a group (the members-reach-members rule is not the spec's)."""
    rules = set()
    for p in permissions:
        for r in p.get("IpRanges", []) + p.get("Ipv6Ranges", []):
            rules.add((p["IpProtocol"], p.get("FromPort", -1), p.get("ToPort", -1),
                       r.get("CidrIp") or r["CidrIpv6"]))
    return rules


def _show_rules(rules: Set[Rule]) -> List[str]:
    return sorted(f"{proto}/{port} from {cidr}" for proto, port, _, cidr in rules)


def _cidr_permission(rule: Rule, name: str = "") -> Dict[str, Any]:
    proto, low, high, cidr = rule
    v6 = ":" in cidr
    entry = {"CidrIpv6" if v6 else "CidrIp": cidr}
    if name:
        entry["Description"] = f"{name} spec ingress"
    return {"IpProtocol": proto, "FromPort": low, "ToPort": high,
            "Ipv6Ranges" if v6 else "IpRanges": [entry]}


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

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Any change is a new version, made the default (new instances use it)."""
        data = dict(self._ec2().describe_launch_template_versions(
            LaunchTemplateId=rid, Versions=["$Default"])["LaunchTemplateVersions"][0][
            "LaunchTemplateData"])
        # the template's own tags are not launch data (moto answers with them in it)
        data["TagSpecifications"] = [t for t in data.get("TagSpecifications", [])
                                     if t.get("ResourceType") != "launch-template"]
        return diff_fields({"LaunchTemplateData": params["LaunchTemplateData"]},
                           {"LaunchTemplateData": data}), {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        version = self._ec2().create_launch_template_version(
            LaunchTemplateId=rid, VersionDescription=params["VersionDescription"],
            LaunchTemplateData=params["LaunchTemplateData"])["LaunchTemplateVersion"]
        self._ec2().modify_launch_template(LaunchTemplateId=rid,
                                           DefaultVersion=str(version["VersionNumber"]))
        return rid

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

    _IN_PLACE = ("MinSize", "MaxSize", "DefaultCooldown", "LaunchTemplate")

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Sizes, cooldown, subnets and template change in place. The desired count is
        the scaling policies' to move, not compared (only clamped into min..max)."""
        group = self._get(rid) or {}
        fields = diff_fields({k: params[k] for k in self._IN_PLACE}, group)
        want, have = params["VPCZoneIdentifier"], group.get("VPCZoneIdentifier", "")
        if sorted(want.split(",")) != sorted(have.split(",")):
            fields["VPCZoneIdentifier"] = (have, want)
        return fields, {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        group = self._get(rid) or {}
        change = {k: params[k] for k in self._IN_PLACE + ("VPCZoneIdentifier",)}
        desired = group.get("DesiredCapacity", params["DesiredCapacity"])
        if not params["MinSize"] <= desired <= params["MaxSize"]:
            change["DesiredCapacity"] = min(max(desired, params["MinSize"]), params["MaxSize"])
        self._asg().update_auto_scaling_group(AutoScalingGroupName=rid, **change)
        return rid

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

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """PutScalingPolicy replaces a policy's settings in place (its ARN stays)."""
        current = self._asg().describe_policies(
            AutoScalingGroupName=params["AutoScalingGroupName"],
            PolicyNames=[step.name])["ScalingPolicies"][0]
        return diff_fields(_except(params, "AutoScalingGroupName", "PolicyName"), current), {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        self._asg().put_scaling_policy(**params)
        return rid

    def create(self, step: Step, params: Dict) -> str:
        arn = self._asg().put_scaling_policy(**params).get("PolicyARN")
        # moto's response lacks PolicyARN; read it back, as a real client may too
        arn = arn or self._arn(params["AutoScalingGroupName"], params["PolicyName"])
        if not arn:
            raise InvindexError(f"scaling policy {step.name} was not created")
        return arn

    def delete(self, rid: str) -> None:
        try:
            self._asg().delete_policy(AutoScalingGroupName=_asg_of(rid),
                                      PolicyName=rid.split(":policyName/", 1)[1])
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

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """PutMetricAlarm on an existing name replaces its definition (tags are kept)."""
        current = self._cw().describe_alarms(AlarmNames=[rid])["MetricAlarms"][0]
        return diff_fields(_except(params, "AlarmName", "Tags"), current), {}

    def update(self, step: Step, params: Dict, rid: str, fields: Fields) -> str:
        self._cw().put_metric_alarm(**params)
        return rid

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

    def compare(self, step: Step, params: Dict, rid: str) -> Tuple[Fields, Fields]:
        """Type, image and key pair are fixed at launch: a change needs a new instance."""
        i = self._ec2().describe_instances(InstanceIds=[rid])["Reservations"][0]["Instances"][0]
        wanted = {k: params[k] for k in ("InstanceType", "ImageId", "KeyName") if k in params}
        return {}, diff_fields(wanted, i)

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


def _except(params: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    return {k: v for k, v in params.items() if k not in keys}


TEARDOWN = ["emr_cluster", "emr_security_configuration", "alarm",
            "scaling_policy", "auto_scaling_group", "instance", "db_instance", "dynamodb_table",
            "launch_template", "db_subnet_group", "security_group"]


def handlers(aws: Aws) -> Dict[str, Any]:
    return {"security_group": SecurityGroups(aws), "launch_template": LaunchTemplates(aws),
            "auto_scaling_group": AutoScalingGroups(aws), "scaling_policy": ScalingPolicies(aws),
            "alarm": Alarms(aws), "instance": Instances(aws)}
