"""AWS shapes against moto's server (a real HTTP endpoint speaking the AWS APIs).

What moto does and does not do, and so what these tests can claim: moto creates and
lists the resources, launches the Auto Scaling group's instances and follows
set_desired_capacity; it stores CloudWatch alarms but never evaluates them or runs their
actions, so the tests assert the *wiring* (alarm -> policy ARN, metric, thresholds,
periods) and change capacity themselves. moto does not apply a launch template's
metadata options or volume encryption to the instances an ASG launches, so those are
asserted on the launch template. EMR's managed scaling is not implemented by moto: that
request is validated against botocore's API model instead of being sent.
"""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from _specs import write_spec

from invindex.cli import main
from invindex.errors import InvindexError
from invindex.provision import api, state
from invindex.provision.spec import load_spec, parse_spec

TAG = [{"Name": "tag:invindex-cluster", "Values": ["t-fleet"]}]


FLEET = """
    name = "t-fleet"
    shape = "fleet"
    [aws]
    region = "us-east-1"
    [machine]
    type = "t3.micro"
    user_data = "#!/bin/sh\\necho worker\\n"
    [network]
    ingress = [{ protocol = "tcp", port = 22, cidr = "203.0.113.0/24" }]
    [scaling]
    min = 1
    max = 3
    desired = 1
"""


def clients():
    return {name: boto3.client(name, region_name="us-east-1")
            for name in ("ec2", "autoscaling", "cloudwatch", "emr")}


def live_instances(ec2, cluster: str):
    pages = ec2.describe_instances(Filters=[
        {"Name": "tag:invindex-cluster", "Values": [cluster]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
    return [i for r in pages for i in r["Instances"]]


def tagged_counts(c, cluster: str) -> dict:
    """Every kind of resource the AWS shapes create, counted by the cluster tag."""
    tag = [{"Name": "tag:invindex-cluster", "Values": [cluster]}]
    groups = c["autoscaling"].describe_auto_scaling_groups(Filters=tag)["AutoScalingGroups"]
    alarms = boto3.client("resourcegroupstaggingapi", region_name="us-east-1").get_resources(
        ResourceTypeFilters=["cloudwatch:alarm"],
        TagFilters=[{"Key": "invindex-cluster", "Values": [cluster]}])
    emr = [x for x in c["emr"].list_clusters(ClusterStates=[
        "STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"])["Clusters"]
        if x["Name"] == cluster]
    return {
        "security_groups": len(c["ec2"].describe_security_groups(Filters=tag)["SecurityGroups"]),
        "launch_templates": len(c["ec2"].describe_launch_templates(
            Filters=tag)["LaunchTemplates"]),
        "asgs": len(groups),
        "policies": len(c["autoscaling"].describe_policies()["ScalingPolicies"]),
        "alarms": len(alarms["ResourceTagMappingList"]),
        "instances": len(live_instances(c["ec2"], cluster)),
        "emr_clusters": len(emr),
        "emr_security_configurations": int(has_security_configuration(f"{cluster}-security")),
    }


def has_security_configuration(name: str) -> bool:
    try:
        boto3.client("emr", region_name="us-east-1").describe_security_configuration(Name=name)
    except boto3.client("emr", region_name="us-east-1").exceptions.InvalidRequestException:
        return False
    return True


def test_fleet_up_creates_secure_wired_fleet_and_second_up_creates_nothing(aws, tmp_path,
                                                                           capsys):
    """`cluster up` on moto: launch template (IMDSv2, encrypted EBS, user data), ASG over
    two zones, +1/-1 policies with cooldown 180 s, and the two CPU alarms whose actions are
    exactly those policies' ARNs. moto never evaluates the alarms: capacity is driven here
    with set_desired_capacity, which moto does follow."""
    spec = write_spec(tmp_path, FLEET)
    assert main(["cluster", "up", str(spec)]) == 0
    assert "7 created, 0 already there" in capsys.readouterr().out
    c = clients()
    ec2, asg, cw = c["ec2"], c["autoscaling"], c["cloudwatch"]

    (sg,) = ec2.describe_security_groups(Filters=TAG)["SecurityGroups"]
    ranges = [r["CidrIp"] for p in sg["IpPermissions"] for r in p.get("IpRanges", [])]
    assert ranges == ["203.0.113.0/24"]  # the spec's rule and nothing world-open
    peers = [g["GroupId"] for p in sg["IpPermissions"] for g in p.get("UserIdGroupPairs", [])]
    assert peers == [sg["GroupId"]]      # members reach each other

    (lt,) = ec2.describe_launch_templates(Filters=TAG)["LaunchTemplates"]
    data = ec2.describe_launch_template_versions(
        LaunchTemplateId=lt["LaunchTemplateId"])["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert all(b["Ebs"]["Encrypted"] for b in data["BlockDeviceMappings"])
    assert base64.b64decode(data["UserData"]).decode() == "#!/bin/sh\necho worker\n"
    (nic,) = data["NetworkInterfaces"]
    assert (nic["Groups"], nic["DeleteOnTermination"], nic["AssociatePublicIpAddress"]) == \
        ([sg["GroupId"]], True, False)
    assert asg.describe_launch_configurations()["LaunchConfigurations"] == []

    (group,) = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["t-fleet-asg"])[
        "AutoScalingGroups"]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (1, 1, 3)
    assert group["LaunchTemplate"]["LaunchTemplateId"] == lt["LaunchTemplateId"]
    assert len(group["VPCZoneIdentifier"].split(",")) >= 2
    assert len(set(group["AvailabilityZones"])) >= 2
    assert {"invindex-cluster", "managed-by"} <= {t["Key"] for t in group["Tags"]
                                                  if t["PropagateAtLaunch"]}

    policies = {p["PolicyName"]: p for p in asg.describe_policies(
        AutoScalingGroupName="t-fleet-asg")["ScalingPolicies"]}
    out, inn = policies["t-fleet-scale-out"], policies["t-fleet-scale-in"]
    assert (out["AdjustmentType"], out["ScalingAdjustment"], out["Cooldown"]) == \
        ("ChangeInCapacity", 1, 180)
    assert (inn["ScalingAdjustment"], inn["Cooldown"]) == (-1, 180)

    alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    high, low = alarms["t-fleet-cpuutilization-high"], alarms["t-fleet-cpuutilization-low"]
    for alarm, op, threshold, policy in ((high, "GreaterThanThreshold", 70, out),
                                         (low, "LessThanThreshold", 40, inn)):
        assert (alarm["MetricName"], alarm["Namespace"], alarm["Statistic"]) == \
            ("CPUUtilization", "AWS/EC2", "Average")
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (op, threshold)
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (60, 2)
        assert alarm["Dimensions"] == [{"Name": "AutoScalingGroupName", "Value": "t-fleet-asg"}]
        assert alarm["AlarmActions"] == [policy["PolicyARN"]]

    assert len(live_instances(ec2, "t-fleet")) == 1
    # What a firing high alarm would do, done by hand (moto evaluates no alarm):
    asg.set_desired_capacity(AutoScalingGroupName="t-fleet-asg", DesiredCapacity=3)
    assert len(live_instances(ec2, "t-fleet")) == 3

    before = tagged_counts(c, "t-fleet")
    assert main(["cluster", "up", str(spec)]) == 0
    assert "0 created, 7 already there" in capsys.readouterr().out
    assert tagged_counts(c, "t-fleet") == before

    assert main(["cluster", "status", "t-fleet"]) == 0
    shown = capsys.readouterr().out
    assert "t-fleet-asg desired 3 (min 1, max 3), 3 in service" in shown
    assert "tcp/22 from 203.0.113.0/24" in shown


def test_failure_midway_rolls_back_everything_this_run_created(aws, tmp_path):
    """The second CloudWatch alarm fails (injected through botocore's event hooks before the
    request leaves); everything created before it is deleted again, newest first."""
    session = boto3.Session(region_name="us-east-1")
    calls = []

    def fail_second_alarm(params, **kwargs):
        calls.append(params["AlarmName"])
        if len(calls) == 2:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "LimitExceeded", "Message": "injected"}},
                              "PutMetricAlarm")

    session.events.register("provide-client-params.cloudwatch.PutMetricAlarm",
                            fail_second_alarm)
    spec = load_spec(write_spec(tmp_path, FLEET))
    with pytest.raises(InvindexError, match="up failed at alarm t-fleet-cpuutilization-low.*"
                                            "LimitExceeded.*rolled back 6"):
        api.up(spec, echo=lambda line: None, session=session)
    assert set(tagged_counts(clients(), "t-fleet").values()) == {0}


def test_down_finds_everything_by_tag_without_local_state(aws, tmp_path, capsys):
    """After `up` and a scale-out, the local record is lost: `down NAME` says to pass the
    spec, `down SPEC` deletes everything by tag (ASG before launch template, instances
    before the security group), leaving zero tagged resources."""
    spec = write_spec(tmp_path, FLEET)
    assert main(["cluster", "up", str(spec)]) == 0
    boto3.client("autoscaling", region_name="us-east-1").set_desired_capacity(
        AutoScalingGroupName="t-fleet-asg", DesiredCapacity=2)
    state.forget("t-fleet")
    assert main(["cluster", "down", "t-fleet"]) == 1
    assert "no local record of cluster t-fleet" in capsys.readouterr().err
    assert main(["cluster", "down", str(spec)]) == 0
    out = capsys.readouterr()
    assert "7 resource(s) deleted" in out.out
    order = [line.split()[1] for line in out.err.splitlines() if line.startswith("deleted")]
    assert order.index("auto_scaling_group") < order.index("launch_template") < \
        order.index("security_group")
    assert set(tagged_counts(clients(), "t-fleet").values()) == {0}
    assert main(["cluster", "down", str(spec)]) == 0  # nothing left: still fine
    assert "0 resource(s) deleted" in capsys.readouterr().out


def test_plan_makes_only_read_calls(aws, tmp_path):
    """`plan` looks things up (default VPC, subnets, AMI, and each resource to compare
    it) and changes nothing: every AWS operation it sends is a Describe/Get/List."""
    session = boto3.Session(region_name="us-east-1")
    sent = []
    session.events.register("before-call", lambda model, **kw: sent.append(model.name))
    plan, changes = api.diff(load_spec(write_spec(tmp_path, FLEET)), session=session)
    assert sent and all(op.startswith(("Describe", "Get", "List")) for op in sent), sent
    assert {c.action for c in changes} == {"create"}
    api.up(load_spec(write_spec(tmp_path, FLEET)), echo=lambda line: None)
    sent.clear()
    _, changes = api.diff(load_spec(write_spec(tmp_path, FLEET)), session=session)
    assert {c.action for c in changes} == {"unchanged"}, [c.line() for c in changes]
    assert sent and all(op.startswith(("Describe", "Get", "List")) for op in sent), sent
    text = plan.text(full=True)
    assert "alarm t-fleet-cpuutilization-high: average CPUUtilization > 70 for 2 x 60 s" in text
    assert '"HttpTokens": "required"' in text and "<policy_out>" in text


def test_single_instance_shape(aws, tmp_path, capsys):
    """The tutorial's single instance with IMDSv2, an encrypted root volume and a security
    group with no inbound rule; idempotent; `down` terminates it and deletes the group."""
    spec = write_spec(tmp_path, """
        name = "t-one"
        shape = "instance"
        [aws]
        region = "us-east-1"
    """)
    assert main(["cluster", "up", str(spec)]) == 0
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (inst,) = live_instances(ec2, "t-one")
    assert inst["MetadataOptions"]["HttpTokens"] == "required"
    vols = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id",
                                          "Values": [inst["InstanceId"]]}])["Volumes"]
    assert vols and all(v["Encrypted"] for v in vols)
    (sg,) = ec2.describe_security_groups(Filters=[
        {"Name": "tag:invindex-cluster", "Values": ["t-one"]}])["SecurityGroups"]
    assert sg["IpPermissions"] == []
    assert main(["cluster", "up", str(spec)]) == 0
    assert "0 created, 2 already there" in capsys.readouterr().out
    assert len(live_instances(ec2, "t-one")) == 1
    assert main(["cluster", "down", "t-one"]) == 0
    assert live_instances(ec2, "t-one") == []
    assert ec2.describe_security_groups(Filters=[
        {"Name": "tag:invindex-cluster", "Values": ["t-one"]}])["SecurityGroups"] == []


EMR = """
    name = "t-emr"
    shape = "emr"
    [aws]
    region = "us-east-1"
    [emr]
    log_uri = "s3://logs-bucket/emr/"
    idle_timeout = 1800
    [scaling]
    min = 1
    max = 5
    desired = 1
"""


def test_emr_cluster_with_autoscaling_rules(aws, tmp_path, capsys):
    """EMR on moto: instance groups, the task group's automatic scaling rules (+1 below
    15 % free YARN memory, -1 above 75 %, cooldown 180 s), no bootstrap action, logs to S3,
    the IMDSv2 security configuration, tags; the idle auto-termination policy is checked
    in the request sent (moto accepts it but cannot return it)."""
    sent = {}
    session = boto3.Session(region_name="us-east-1")
    session.events.register("provide-client-params.emr.RunJobFlow",
                            lambda params, **kw: sent.update(params))
    spec = load_spec(write_spec(tmp_path, EMR))
    out = api.up(spec, echo=lambda line: None, session=session)
    assert [k for k, _, _ in out.created] == ["emr_security_configuration", "emr_cluster"]
    assert sent["AutoTerminationPolicy"] == {"IdleTimeout": 1800}
    emr = boto3.client("emr", region_name="us-east-1")
    (summary,) = emr.list_clusters(ClusterStates=["WAITING", "RUNNING", "STARTING"])["Clusters"]
    cluster = emr.describe_cluster(ClusterId=summary["Id"])["Cluster"]
    assert {"Key": "invindex-cluster", "Value": "t-emr"} in cluster["Tags"]
    assert cluster["LogUri"] == "s3://logs-bucket/emr/"
    assert cluster["SecurityConfiguration"] == "t-emr-security"
    conf = json.loads(emr.describe_security_configuration(Name="t-emr-security")[
        "SecurityConfiguration"])
    assert conf["InstanceMetadataServiceConfiguration"][
        "MinimumInstanceMetadataServiceVersion"] == 2
    # nothing installed by default: the job ships invindex.zip
    assert emr.list_bootstrap_actions(ClusterId=summary["Id"])["BootstrapActions"] == []
    groups = {g["InstanceGroupType"]: g for g in emr.list_instance_groups(
        ClusterId=summary["Id"])["InstanceGroups"]}
    assert set(groups) == {"MASTER", "CORE", "TASK"}
    policy = groups["TASK"]["AutoScalingPolicy"]
    assert policy["Constraints"] == {"MinCapacity": 1, "MaxCapacity": 5}
    rules = {r["Name"]: r for r in policy["Rules"]}
    out_rule, in_rule = rules["t-emr-scale-out"], rules["t-emr-scale-in"]
    assert out_rule["Action"]["SimpleScalingPolicyConfiguration"] == {
        "AdjustmentType": "CHANGE_IN_CAPACITY", "ScalingAdjustment": 1, "CoolDown": 180}
    assert in_rule["Action"]["SimpleScalingPolicyConfiguration"]["ScalingAdjustment"] == -1
    trigger = out_rule["Trigger"]["CloudWatchAlarmDefinition"]
    assert (trigger["MetricName"], trigger["ComparisonOperator"], trigger["Threshold"],
            trigger["Period"]) == ("YARNMemoryAvailablePercentage", "LESS_THAN", 15.0, 300)
    assert in_rule["Trigger"]["CloudWatchAlarmDefinition"]["ComparisonOperator"] == \
        "GREATER_THAN"

    again = api.up(spec, echo=lambda line: None)
    assert again.created == [] and len(again.existing) == 2
    assert main(["cluster", "down", "t-emr"]) == 0
    assert emr.describe_cluster(ClusterId=summary["Id"])["Cluster"]["Status"]["State"] == \
        "TERMINATED"
    assert not has_security_configuration("t-emr-security")


def test_every_request_body_matches_the_aws_api_model(aws, tmp_path):
    """Each planned request, for every AWS shape and scaling mode (including EMR managed
    scaling, which moto does not implement), validates against botocore's service model:
    the parameter names, nesting and types are what AWS accepts."""
    from botocore.validate import ParamValidator

    from invindex.provision.plan import resolve

    operations = {"security_group": ("ec2", "CreateSecurityGroup"),
                  "launch_template": ("ec2", "CreateLaunchTemplate"),
                  "auto_scaling_group": ("autoscaling", "CreateAutoScalingGroup"),
                  "scaling_policy": ("autoscaling", "PutScalingPolicy"),
                  "alarm": ("cloudwatch", "PutMetricAlarm"), "instance": ("ec2", "RunInstances"),
                  "emr_security_configuration": ("emr", "CreateSecurityConfiguration"),
                  "emr_cluster": ("emr", "RunJobFlow"),
                  "emr_managed_scaling": ("emr", "PutManagedScalingPolicy"),
                  "db_subnet_group": ("rds", "CreateDBSubnetGroup"),
                  "db_instance": ("rds", "CreateDBInstance"),
                  "dynamodb_table": ("dynamodb", "CreateTable"),
                  "dynamodb_backups": ("dynamodb", "UpdateContinuousBackups")}
    specs = [FLEET, FLEET.replace('min = 1', 'mode = "target"\n    min = 1'),
             '\n    name = "t-one"\n    shape = "instance"\n', EMR,
             EMR.replace("idle_timeout", 'install = "s3://b/w/invindex-0.4-py3-none-any.whl"'
                                         "\n    idle_timeout"),
             '\n    name = "t-db"\n    shape = "rds-postgres"\n',
             '\n    name = "t-table"\n    shape = "dynamodb"\n',
             EMR.replace("min = 1", 'mode = "managed"\n    min = 1')]
    seen, models = set(), {}
    for i, text in enumerate(specs):
        plan, _ = api.make_plan(load_spec(write_spec(tmp_path, text, f"s{i}.toml")))
        ids = {s.ref_key: "sg-0123456789abcdef0" for s in plan.steps}
        for step in plan.steps:
            service, op = operations[step.kind]
            params = resolve(step.params, ids)
            params.pop("AllowPeers", None)
            params.pop("IpPermissions", None) if step.kind == "security_group" else None
            if service not in models:
                models[service] = boto3.client(service).meta.service_model
            model = models[service].operation_model(op)
            report = ParamValidator().validate(params, model.input_shape)
            assert not report.has_errors(), f"{step.kind}: {report.generate_report()}"
            seen.add(step.kind)
    assert seen == set(operations)
    managed = [s for s in plan.steps if s.kind == "emr_managed_scaling"][0].params
    assert managed["ManagedScalingPolicy"]["ComputeLimits"] == {
        "UnitType": "Instances", "MinimumCapacityUnits": 3, "MaximumCapacityUnits": 7,
        "MaximumCoreCapacityUnits": 2}


def test_up_refuses_to_adopt_an_untagged_resource_with_its_name(aws, tmp_path):
    """A security group called t-fleet-sg that is not ours is neither reused nor deleted."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    ec2.create_security_group(GroupName="t-fleet-sg", Description="not ours",
                              VpcId=vpc["VpcId"])
    with pytest.raises(InvindexError, match="exists but is not tagged for this cluster"):
        api.up(parse_spec({"name": "t-fleet", "shape": "fleet"}), echo=lambda line: None)
    assert len(ec2.describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["t-fleet-sg"]}])["SecurityGroups"]) == 1


def test_missing_credentials_are_one_line(aws, tmp_path, monkeypatch, capsys):
    """No credentials anywhere (instance metadata lookups disabled so nothing leaves the
    machine): plan and status fail with one line, no traceback."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    spec = write_spec(tmp_path, FLEET)
    assert main(["cluster", "plan", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "no AWS credentials found" in err and "Traceback" not in err
    assert main(["cluster", "status", str(spec)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("invindex: error: status: listing") and err.count("\n") == 1
