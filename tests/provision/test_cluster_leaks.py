"""`up` then `down` leaves nothing billable behind, shape by shape, against moto's server.

Each test lists everything the account holds that costs money or opens access (instances,
EBS volumes and snapshots, Elastic IPs, NAT gateways, network interfaces, security groups,
launch templates, Auto Scaling groups and policies, CloudWatch alarms and log groups, EMR
clusters and security configurations, RDS instances, snapshots and subnet groups, Secrets
Manager secrets, DynamoDB tables and backups) before `up` and after `down`, and asserts the
two are the same: not only what carries the cluster's tag, so that something created
untagged (an ASG instance's volume, RDS's managed secret) is caught too. moto answers these
APIs as AWS does but bills nothing and evaluates no alarm: what is asserted is that each
resource is gone from the API, which is what stops AWS billing for it.
"""

from __future__ import annotations

from typing import Dict, Set

import boto3
import pytest
from _specs import write_spec

from invindex.cli import main

REGION = "us-east-1"


def everything() -> Dict[str, Set[str]]:
    """Ids of every billable or access-granting resource in the account's region."""
    c = {s: boto3.client(s, region_name=REGION) for s in (
        "ec2", "autoscaling", "cloudwatch", "logs", "emr", "rds", "secretsmanager",
        "dynamodb")}
    ec2 = c["ec2"]
    live = ("pending", "running", "stopping", "stopped", "shutting-down")
    emr_live = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]
    return {
        "instances": {i["InstanceId"] for r in ec2.describe_instances(Filters=[
            {"Name": "instance-state-name", "Values": list(live)}])["Reservations"]
            for i in r["Instances"]},
        "volumes": {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]},
        "snapshots": {s["SnapshotId"] for s in ec2.describe_snapshots(
            OwnerIds=["self"])["Snapshots"]},
        "elastic_ips": {a.get("AllocationId", a.get("PublicIp")) for a in
                        ec2.describe_addresses()["Addresses"]},
        "nat_gateways": {n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"]
                         if n["State"] not in ("deleted", "deleting")},
        "network_interfaces": {n["NetworkInterfaceId"] for n in
                               ec2.describe_network_interfaces()["NetworkInterfaces"]},
        "security_groups": {g["GroupId"] for g in ec2.describe_security_groups()[
            "SecurityGroups"]},
        "launch_templates": {t["LaunchTemplateId"] for t in
                             ec2.describe_launch_templates()["LaunchTemplates"]},
        "auto_scaling_groups": {g["AutoScalingGroupName"] for g in c["autoscaling"]
                                .describe_auto_scaling_groups()["AutoScalingGroups"]},
        "scaling_policies": {p["PolicyARN"] for p in c["autoscaling"].describe_policies()[
            "ScalingPolicies"]},
        "alarms": {a["AlarmName"] for a in c["cloudwatch"].describe_alarms()["MetricAlarms"]},
        "log_groups": {g["logGroupName"] for g in c["logs"].describe_log_groups()["logGroups"]},
        "emr_clusters": {x["Id"] for x in c["emr"].list_clusters(
            ClusterStates=emr_live)["Clusters"]},
        # moto has no ListSecurityConfigurations: the name every EMR spec here gets
        "emr_security_configurations": {n for n in ("l-emr-security",) if _exists(
            c["emr"].describe_security_configuration, Name=n)},
        "db_instances": {d["DBInstanceIdentifier"] for d in
                         c["rds"].describe_db_instances()["DBInstances"]},
        "db_snapshots": {s["DBSnapshotIdentifier"] for s in
                         c["rds"].describe_db_snapshots()["DBSnapshots"]},
        "db_subnet_groups": {g["DBSubnetGroupName"] for g in
                             c["rds"].describe_db_subnet_groups()["DBSubnetGroups"]},
        "secrets": {s["ARN"] for s in c["secretsmanager"].list_secrets()["SecretList"]},
        "dynamodb_tables": set(c["dynamodb"].list_tables()["TableNames"]),
        "dynamodb_backups": {b["BackupArn"] for b in c["dynamodb"].list_backups()[
            "BackupSummaries"]},
    }


def _exists(read, **kw) -> bool:
    try:
        read(**kw)
    except Exception:
        return False
    return True


def left_over(before: Dict[str, Set[str]]) -> Dict[str, Set[str]]:
    after = everything()
    return {kind: after[kind] - before[kind] for kind in after if after[kind] - before[kind]}


FLEET = """
    name = "l-fleet"
    shape = "fleet"
    [aws]
    region = "us-east-1"
    [network]
    ingress = [{ protocol = "tcp", port = 22, cidr = "203.0.113.0/24" }]
    [scaling]
    min = 1
    max = 3
    desired = 2
"""
EMR = """
    name = "l-emr"
    shape = "emr"
    [aws]
    region = "us-east-1"
    [emr]
    log_uri = "s3://logs-bucket/emr/"
    [scaling]
    min = 1
    max = 4
    desired = 1
"""
RDS = """
    name = "l-db"
    shape = "rds-postgres"
    [aws]
    region = "us-east-1"
    [database]
    final_snapshot = false
"""


def moto_only(cluster: str) -> Dict[str, Set[str]]:
    """What moto leaves where AWS does not (read while the cluster is up): the nodes of an
    EMR cluster and their volumes (moto starts EC2 instances for them but does not stop them
    when the cluster terminates) and the primary network interfaces of the instances an
    Auto Scaling group launched (moto does not apply the launch template's interfaces,
    DeleteOnTermination included, to them; AWS deletes an interface it created at launch
    with its instance)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    emr = boto3.client("emr", region_name=REGION)
    nodes = {i["Ec2InstanceId"] for c in emr.list_clusters()["Clusters"]
             if c["Name"] == cluster for i in emr.list_instances(ClusterId=c["Id"])["Instances"]}
    groups = boto3.client("autoscaling", region_name=REGION).describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"{cluster}-asg"])["AutoScalingGroups"]
    launched = {i["InstanceId"] for g in groups for i in g["Instances"]}
    nics = {n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()[
        "NetworkInterfaces"] if n.get("Attachment", {}).get("InstanceId") in nodes | launched}
    disks = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]
             if any(a["InstanceId"] in nodes for a in v.get("Attachments", []))}
    return {"instances": nodes, "network_interfaces": nics, "volumes": disks}


@pytest.mark.parametrize("text", [
    FLEET, FLEET.replace("min = 1", 'mode = "target"\n    min = 1'),
    '\n    name = "l-one"\n    shape = "instance"\n    [aws]\n    region = "us-east-1"\n',
    EMR, EMR.replace("min = 1", 'mode = "managed"\n    min = 1'), RDS,
    '\n    name = "l-table"\n    shape = "dynamodb"\n    [aws]\n    region = "us-east-1"\n',
], ids=["fleet", "fleet-target", "instance", "emr", "emr-managed", "rds", "dynamodb"])
def test_down_leaves_nothing_billable(aws, tmp_path, text):
    """Every AWS shape: after `up` (on the fleet, with the instances its Auto Scaling group
    launched) and `down`, the account holds exactly what it held before, but for what only
    moto leaves (``moto_only``). EMR managed scaling, which moto lacks, is added to it by
    ``_moto_emr`` (through the ``aws`` fixture)."""
    before = everything()
    spec = write_spec(tmp_path, text)
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    assert left_over(before), "up created nothing?"
    moto = moto_only(text.split('"')[1])
    assert main(["-q", "cluster", "down", "--yes", str(spec)]) == 0
    left = {kind: ids - moto.get(kind, set()) for kind, ids in left_over(before).items()}
    assert {kind: ids for kind, ids in left.items() if ids} == {}


def test_a_kept_rds_final_snapshot_is_named_by_down(aws, tmp_path, capsys):
    """The final snapshot is the one thing `down` keeps on purpose (database.final_snapshot,
    default true): it is billed storage, so `down` names it and says how to delete it, and
    it is all that is left."""
    before = everything()
    spec = write_spec(tmp_path, RDS.replace("final_snapshot = false", "final_snapshot = true"))
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    capsys.readouterr()
    assert main(["cluster", "down", "--yes", str(spec)]) == 0
    out = capsys.readouterr().out
    left = left_over(before)
    assert list(left) == ["db_snapshots"]
    (snapshot,) = left["db_snapshots"]
    assert f"kept final snapshot {snapshot}" in out
    assert "aws rds delete-db-snapshot" in out
