"""The audit's defects (issue 15), one reproduction each; every test here failed before its fix.

AWS cases run against moto's server, GCP cases against the recording local server
(``_fake_cloud.FakeGcp``) through the real client libraries.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
from _specs import write_spec

from invindex.cli import main
from invindex.errors import UsageError
from invindex.provision import api
from invindex.provision.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data" / "clusters"


# 1. EMR bootstrap: nothing installed by default; only a wheel the user staged ------------

def test_emr_bootstraps_nothing_by_default_and_the_samples_install_no_unpublished_name(
        aws, tmp_path):
    """`pip install invindex` on every node fails (not on PyPI; EMR 7's Python is 3.9) and
    AWS does not start a cluster whose bootstrap action fails: by default there is no
    bootstrap action at all (the job ships invindex.zip). The fleet sample's user data does
    not pip-install the name either (a squatting risk on every node)."""
    plan, _ = api.make_plan(load_spec(SAMPLES / "emr.toml"))
    (cluster,) = [s for s in plan.steps if s.kind == "emr_cluster"]
    assert "BootstrapActions" not in cluster.params
    for sample in SAMPLES.glob("*.toml"):
        assert "install invindex" not in sample.read_text(), sample.name


def test_emr_installs_a_staged_wheel_without_reaching_pypi(aws):
    """emr.install names a wheel staged in S3: the bootstrap copies it and installs it
    with --no-deps and --no-index (nothing fetched from PyPI by name)."""
    wheel = "s3://bucket/wheels/invindex-0.4.0-py3-none-any.whl"
    spec = parse_spec({"name": "e", "shape": "emr", "aws": {"region": "us-east-1"},
                       "emr": {"log_uri": "s3://b/l/", "install": wheel}})
    plan, _ = api.make_plan(spec)
    (cluster,) = [s for s in plan.steps if s.kind == "emr_cluster"]
    (action,) = cluster.params["BootstrapActions"]
    script = " ".join(action["ScriptBootstrapAction"]["Args"])
    assert wheel in script and "--no-deps" in script and "--no-index" in script


@pytest.mark.parametrize("install", ["invindex", "invindex==0.4", "https://x/y.whl",
                                     "s3://bucket/invindex.tar.gz"])
def test_emr_install_must_be_a_staged_wheel(install):
    with pytest.raises(UsageError, match="emr.install"):
        parse_spec({"name": "e", "shape": "emr", "emr": {"log_uri": "s3://b/l/",
                                                          "install": install}})


# 2. Detailed monitoring when an alarm period is under 300 s ----------------------------

FLEET = """
    name = "t-fleet"
    shape = "fleet"
    [aws]
    region = "us-east-1"
    [scaling]
    min = 1
    max = 4
    desired = 1
"""


def _template_data(name: str) -> dict:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (lt,) = ec2.describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"]
    return ec2.describe_launch_template_versions(
        LaunchTemplateId=lt["LaunchTemplateId"], Versions=["$Default"])[
        "LaunchTemplateVersions"][0]["LaunchTemplateData"]


def test_sixty_second_alarms_get_detailed_monitoring(aws, tmp_path):
    """Basic monitoring sends EC2 metrics every 5 minutes, so 2 x 60 s alarms could not
    fire as specified; the launch template enables detailed (1-minute) monitoring."""
    api.up(load_spec(write_spec(tmp_path, FLEET)), echo=lambda line: None)
    assert _template_data("t-fleet-lt")["Monitoring"] == {"Enabled": True}


def test_five_minute_alarms_keep_basic_monitoring(aws, tmp_path):
    """Detailed monitoring is billed per metric: not asked for when 300 s periods suffice."""
    text = FLEET + "    period = 300\n    evaluation_periods = 1\n"
    api.up(load_spec(write_spec(tmp_path, text)), echo=lambda line: None)
    assert "Monitoring" not in _template_data("t-fleet-lt")


# 3. World-open rules, parsed ---------------------------------------------------------------

@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "::0/0", "0:0:0:0:0:0:0:0/0",
                                  "8.8.8.8/0", "0.0.0.0/1", "128.0.0.0/2", "10.0.0.0/7",
                                  "2000::/3"])
def test_world_or_nearly_world_open_ranges_need_public(cidr):
    rule = {"protocol": "tcp", "port": 22, "cidr": cidr}
    with pytest.raises(UsageError, match="public = true"):
        parse_spec({"name": "a", "shape": "instance", "network": {"ingress": [rule]}})
    spec = parse_spec({"name": "a", "shape": "instance", "network": {
        "ingress": [dict(rule, public=True)]}})
    assert spec.ingress[0].public


@pytest.mark.parametrize("cidr, canonical", [("10.0.0.0/8", "10.0.0.0/8"),
                                             ("203.0.113.7/24", "203.0.113.0/24"),
                                             ("2001:DB8:0:0::/32", "2001:db8::/32")])
def test_narrow_ranges_pass_in_canonical_form(cidr, canonical):
    spec = parse_spec({"name": "a", "shape": "instance", "network": {"ingress": [
        {"protocol": "tcp", "port": 22, "cidr": cidr}]}})
    assert spec.ingress[0].cidr == canonical


@pytest.mark.parametrize("cidr", ["10.0.0.0", "10.0.0.300/24", "any/0", "10.0.0.0/33"])
def test_malformed_ranges_are_refused(cidr):
    with pytest.raises(UsageError, match=r"network.ingress\[0\].cidr"):
        parse_spec({"name": "a", "shape": "instance", "network": {"ingress": [
            {"protocol": "tcp", "port": 22, "cidr": cidr}]}})


# 6. Dataproc limits ----------------------------------------------------------------------

def test_dataproc_needs_two_primary_workers():
    """Dataproc's standard clusters need at least 2 primary workers (0 means a single-node
    cluster, another configuration); 1 is refused before any API call."""
    for workers in (0, 1):
        with pytest.raises(UsageError, match="dataproc.workers"):
            parse_spec({"name": "a", "shape": "dataproc", "dataproc": {"workers": workers}})


EMR = """
    name = "t-emr"
    shape = "emr"
    [aws]
    region = "us-east-1"
    [emr]
    log_uri = "s3://logs/emr/"
    [scaling]
    min = 1
    max = 3
    desired = 1
"""


# 7. Ids on stdout, --format json, down asks on a terminal -------------------------------

def test_up_and_status_print_ids_on_stdout_even_with_quiet(aws, tmp_path, capsys):
    """The EMR cluster id was only on stderr (hidden by -q); now it is on stdout, and
    `--format json` gives the resources as data."""
    spec = write_spec(tmp_path, EMR.replace("min = 1", "min = 0").replace("desired = 1",
                                                                    "desired = 0"))
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    out = capsys.readouterr().out
    (summary,) = boto3.client("emr", region_name="us-east-1").list_clusters()["Clusters"]
    assert f"emr_cluster t-emr {summary['Id']}" in out
    assert main(["-q", "cluster", "up", str(spec), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"kind": "emr_cluster", "name": "t-emr", "id": summary["Id"],
            "action": "exists"} in data["resources"]
    assert main(["cluster", "status", "t-emr", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cluster"] == "t-emr" and data["location"]["region"] == "us-east-1"
    assert summary["Id"] in [r["id"] for r in data["resources"]]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_down_on_a_terminal_asks_first(aws, tmp_path, capsys, monkeypatch):
    """On a terminal `down` lists what it would delete and asks; anything but "y" keeps
    everything (exit 1); `--yes` skips the question."""
    spec = write_spec(tmp_path, '\n    name = "t-one"\n    shape = "instance"\n    [aws]\n'
                           '    region = "us-east-1"\n')
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert main(["cluster", "down", "t-one"]) == 1
    captured = capsys.readouterr()
    assert "delete 2 resource(s)" in captured.err and "instance" in captured.err
    ec2 = boto3.client("ec2", region_name="us-east-1")
    assert ec2.describe_security_groups(Filters=[
        {"Name": "tag:invindex-cluster", "Values": ["t-one"]}])["SecurityGroups"]
    monkeypatch.setattr("sys.stdin", _Terminal(""))
    assert main(["-q", "cluster", "down", "t-one", "--yes"]) == 0
    assert ec2.describe_security_groups(Filters=[
        {"Name": "tag:invindex-cluster", "Values": ["t-one"]}])["SecurityGroups"] == []


# 4. plan reads what exists; up updates in place and refuses replacements -----------------

def test_plan_shows_updates_and_up_applies_them(aws, tmp_path, capsys):
    """Raise max 4 -> 8, the scale-out threshold 70 -> 80, the instance type and open one
    more port on a running fleet. Before: `up` said "0 created, 7 already there" and
    changed nothing. Now `plan` reads each resource and names the fields, `up` applies
    them in place (a new default launch template version; ASG, policy, alarm, security
    group updated) and a second `plan` finds everything unchanged."""
    first = write_spec(tmp_path, FLEET)
    assert main(["-q", "cluster", "up", str(first)]) == 0
    changed = write_spec(tmp_path, FLEET.replace("max = 4", "max = 8").replace(
        "desired = 1", "desired = 1\n    scale_out_threshold = 80.0").replace(
        '[scaling]', '[machine]\n    type = "t3.small"\n    [network]\n    ingress = '
                     '[{ protocol = "tcp", port = 443, cidr = "198.51.100.0/24" }]\n'
                     '    [scaling]'), "changed.toml")
    capsys.readouterr()
    assert main(["cluster", "plan", str(changed)]) == 0
    shown = capsys.readouterr().out
    assert "update    auto_scaling_group t-fleet-asg: MaxSize 4 -> 8" in shown
    assert "update    alarm t-fleet-cpuutilization-high: Threshold 70.0 -> 80.0" in shown
    assert "LaunchTemplateData.InstanceType t3.micro -> t3.small" in shown
    assert "update    security_group t-fleet-sg: ingress" in shown
    assert "unchanged scaling_policy t-fleet-scale-out" in shown
    assert "replace" not in shown
    assert main(["cluster", "plan", str(changed), "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["resources"]}
    assert rows["t-fleet-asg"]["action"] == "update"
    assert rows["t-fleet-asg"]["fields"] == {"MaxSize": {"current": 4, "wanted": 8}}

    assert main(["-q", "cluster", "up", str(changed)]) == 0
    out = capsys.readouterr().out
    assert "0 created, 7 already there, 4 updated" in out
    asg = boto3.client("autoscaling", region_name="us-east-1")
    (group,) = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["t-fleet-asg"])[
        "AutoScalingGroups"]
    assert (group["MinSize"], group["MaxSize"]) == (1, 8)
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    (alarm,) = cw.describe_alarms(AlarmNames=["t-fleet-cpuutilization-high"])["MetricAlarms"]
    assert alarm["Threshold"] == 80.0
    assert _template_data("t-fleet-lt")["InstanceType"] == "t3.small"
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (sg,) = ec2.describe_security_groups(Filters=[
        {"Name": "tag:invindex-cluster", "Values": ["t-fleet"]}])["SecurityGroups"]
    assert sorted((p.get("FromPort"), r["CidrIp"]) for p in sg["IpPermissions"]
                  for r in p.get("IpRanges", [])) == [(443, "198.51.100.0/24")]

    assert main(["cluster", "plan", str(changed)]) == 0
    again = capsys.readouterr().out
    assert "update" not in again and again.count("unchanged") == 7


def test_up_refuses_what_needs_a_replacement_and_changes_nothing(aws, tmp_path, capsys):
    """An EC2 instance's type or image cannot change in place (nor an EMR cluster's
    release): `plan` says replace, `up` refuses naming the resource and the field, before
    any change (exit 1)."""
    spec = '\n    name = "t-one"\n    shape = "instance"\n    [aws]\n    region = "us-east-1"\n'
    assert main(["-q", "cluster", "up", str(write_spec(tmp_path, spec))]) == 0
    bigger = write_spec(tmp_path, spec + '    [machine]\n    type = "t3.large"\n', "big.toml")
    capsys.readouterr()
    assert main(["cluster", "plan", str(bigger)]) == 0
    assert "replace   instance t-one: InstanceType t3.micro -> t3.large" in \
        capsys.readouterr().out
    assert main(["cluster", "up", str(bigger)]) == 1
    err = capsys.readouterr().err
    assert "instance t-one (InstanceType t3.micro -> t3.large)" in err and "down" in err
    ec2 = boto3.client("ec2", region_name="us-east-1")
    (inst,) = [i for r in ec2.describe_instances(Filters=[
        {"Name": "tag:invindex-cluster", "Values": ["t-one"]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]
        for i in r["Instances"]]
    assert inst["InstanceType"] == "t3.micro"


def test_emr_task_scaling_updates_in_place_release_needs_replacement(aws, tmp_path, capsys):
    """The task group's automatic scaling policy (its limits and rules) is replaced in
    place with PutAutoScalingPolicy; a new release label would need a new cluster."""
    emr_spec = EMR
    assert main(["-q", "cluster", "up", str(write_spec(tmp_path, emr_spec))]) == 0
    capsys.readouterr()
    more = write_spec(tmp_path, emr_spec.replace("max = 3", "max = 6"), "more.toml")
    assert main(["-q", "cluster", "up", str(more)]) == 0
    assert "1 updated" in capsys.readouterr().out
    emr = boto3.client("emr", region_name="us-east-1")
    (summary,) = emr.list_clusters(ClusterStates=["WAITING", "RUNNING", "STARTING"])["Clusters"]
    (task,) = [g for g in emr.list_instance_groups(ClusterId=summary["Id"])["InstanceGroups"]
               if g["InstanceGroupType"] == "TASK"]
    assert task["AutoScalingPolicy"]["Constraints"]["MaxCapacity"] == 6
    newer = write_spec(tmp_path, emr_spec.replace('log_uri', 'release_label = "emr-7.2.0"\n'
                                                        '    log_uri'), "newer.toml")
    assert main(["cluster", "up", str(newer)]) == 1
    assert "emr_cluster t-emr (ReleaseLabel emr-7.1.0 -> emr-7.2.0)" in capsys.readouterr().err


# 5. --cluster-id without --region: the cluster's own region --------------------------------

def test_build_on_a_cluster_id_uses_the_region_it_was_created_in(aws, tmp_path, monkeypatch):
    """mrjob looks for a --cluster-id in its default region (us-west-2) unless told; the
    sample EMR cluster is in us-east-1. The region now comes from the record `cluster up`
    keeps (here eu-west-1, while the environment says us-east-1), as the lowest-precedence
    mrjob option: a region in mrjob.conf or on the command line still wins."""
    pytest.importorskip("mrjob")
    from invindex.runners.cluster import conf_args

    spec = write_spec(tmp_path, EMR.replace("us-east-1", "eu-west-1"))
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    (summary,) = boto3.client("emr", region_name="eu-west-1").list_clusters()["Clusters"]
    monkeypatch.setenv("MRJOB_CONF", str(tmp_path / "no-mrjob.conf"))
    (tmp_path / "no-mrjob.conf").write_text("{}")

    def region(opts, where):
        args = conf_args("emr", opts, where, 1)
        confs = [json.loads(Path(p).read_text()) for p in args[1::2]]
        found = [c.get("runners", {}).get("emr", {}).get("region") for c in confs]
        return [r for r in found if r][-1] if any(found) else None

    assert region({"cluster_id": summary["Id"]}, tmp_path / "w1") == "eu-west-1"
    assert region({"cluster_id": summary["Id"], "region": "ap-south-1"},
                  tmp_path / "w2") == "ap-south-1"
