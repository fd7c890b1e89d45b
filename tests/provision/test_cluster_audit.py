"""The audit's defects (issue 15), one reproduction each; every test here failed before its fix.

AWS cases run against moto's server, GCP cases against the recording local server
(``_fake_cloud.FakeGcp``) through the real client libraries.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import boto3
import pytest

from invindex.cli import main
from invindex.errors import UsageError
from invindex.provision import api
from invindex.provision.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data" / "clusters"


def write(tmp_path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


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
    api.up(load_spec(write(tmp_path, FLEET)), echo=lambda line: None)
    assert _template_data("t-fleet-lt")["Monitoring"] == {"Enabled": True}


def test_five_minute_alarms_keep_basic_monitoring(aws, tmp_path):
    """Detailed monitoring is billed per metric: not asked for when 300 s periods suffice."""
    text = FLEET + "    period = 300\n    evaluation_periods = 1\n"
    api.up(load_spec(write(tmp_path, text)), echo=lambda line: None)
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


# 7. Ids on stdout, --format json, down asks on a terminal -------------------------------

def test_up_and_status_print_ids_on_stdout_even_with_quiet(aws, tmp_path, capsys):
    """The EMR cluster id was only on stderr (hidden by -q); now it is on stdout, and
    `--format json` gives the resources as data."""
    spec = write(tmp_path, """
        name = "t-emr"
        shape = "emr"
        [aws]
        region = "us-east-1"
        [emr]
        log_uri = "s3://logs/emr/"
        [scaling]
        min = 0
        max = 2
        desired = 0
    """)
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
    spec = write(tmp_path, '\n    name = "t-one"\n    shape = "instance"\n    [aws]\n'
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
