"""`up` deletes what an edited spec no longer names, on AWS (moto's server): the alarms and
simple scaling policies of a fleet switched to target tracking keep costing money and keep
acting on the group if left behind. `plan` shows them as `remove`; `up` on a terminal asks
first (as `down` does; `--yes` on the command line, never from a config file, skips it);
declining changes nothing. moto stores alarms but never evaluates them: what is asserted is
which alarms and policies exist."""

from __future__ import annotations

import io
import json
import textwrap

import boto3
import pytest

from invindex.cli import main

FLEET = """
    name = "p-fleet"
    shape = "fleet"
    [aws]
    region = "us-east-1"
    [scaling]
    {mode}
    min = 1
    max = 3
    desired = 1
"""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def spec_file(tmp_path, mode: str):
    path = tmp_path / "fleet.toml"
    path.write_text(textwrap.dedent(FLEET).replace("{mode}", mode))
    return path


def names():
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    asg = boto3.client("autoscaling", region_name="us-east-1")
    return (sorted(a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]
                   if a["AlarmName"].startswith("p-fleet")),
            sorted(p["PolicyName"] for p in asg.describe_policies(
                AutoScalingGroupName="p-fleet-asg")["ScalingPolicies"]))


def test_switching_to_target_tracking_removes_the_alarms_and_simple_policies(
        aws, tmp_path, capsys, monkeypatch):
    spec = spec_file(tmp_path, "")
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    simple = names()
    assert simple == (["p-fleet-cpuutilization-high", "p-fleet-cpuutilization-low"],
                      ["p-fleet-scale-in", "p-fleet-scale-out"])
    spec = spec_file(tmp_path, 'mode = "target"')
    capsys.readouterr()

    assert main(["cluster", "plan", str(spec), "--format", "json"]) == 0
    planned = {(r["action"], r["kind"], r["name"].rsplit("/", 1)[-1]) for r in json.loads(
        capsys.readouterr().out)["resources"]}
    assert {a for a in planned if a[0] == "remove"} == {
        ("remove", "alarm", "p-fleet-cpuutilization-high"),
        ("remove", "alarm", "p-fleet-cpuutilization-low"),
        ("remove", "scaling_policy", "p-fleet-scale-in"),
        ("remove", "scaling_policy", "p-fleet-scale-out")}
    assert ("create", "scaling_policy", "p-fleet-target") in planned

    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert main(["cluster", "up", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "up will delete 4 resource(s)" in err and "p-fleet-cpuutilization-high" in err
    assert "up: cancelled, nothing of cluster p-fleet was changed" in err
    assert names() == simple

    assert main(["cluster", "up", "--yes", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "4 removed (no longer in the spec)" in out
    assert names() == ([], ["p-fleet-target"])
    monkeypatch.setattr("sys.stdin", _Terminal(""))  # nothing left to ask about
    assert main(["cluster", "up", str(spec)]) == 0
    assert "0 created, 4 already there" in capsys.readouterr().out


def test_yes_is_a_command_line_answer_only(tmp_path, capsys):
    """A config file cannot answer `up`'s question for every later run."""
    config = tmp_path / "invindex.toml"
    config.write_text("[cluster]\nyes = true\n")
    spec = spec_file(tmp_path, "")
    assert main(["--config", str(config), "cluster", "up", str(spec)]) == 2
    assert "'yes' is a confirmation: give --yes on the command line" in capsys.readouterr().err


@pytest.mark.parametrize("metric", ["NetworkIn"])
def test_a_new_metric_replaces_the_alarms_named_after_the_old_one(aws, tmp_path, metric):
    """Alarms are named after their metric: the old metric's pair goes, the new pair comes."""
    spec = spec_file(tmp_path, "")
    assert main(["-q", "cluster", "up", str(spec)]) == 0
    spec = spec_file(tmp_path, f'metric = "{metric}"')
    assert main(["-q", "cluster", "up", "--yes", str(spec)]) == 0
    assert names()[0] == [f"p-fleet-{metric.lower()}-high", f"p-fleet-{metric.lower()}-low"]


EMR = """
    name = "p-emr"
    shape = "emr"
    [aws]
    region = "us-east-1"
    [emr]
    log_uri = "s3://logs-bucket/emr/"
    [scaling]
    {mode}
    min = 1
    max = 4
    desired = {desired}
"""


def emr_file(tmp_path, mode: str, desired: int = 1):
    path = tmp_path / "emr.toml"
    path.write_text(textwrap.dedent(EMR).replace("{mode}", mode).replace(
        "{desired}", str(desired)))
    return path


def emr_state():
    """(task group's requested count, whether it has automatic scaling rules, the managed
    scaling policy's limits or None)."""
    emr = boto3.client("emr", region_name="us-east-1")
    (c,) = [c for c in emr.list_clusters(ClusterStates=["WAITING", "RUNNING"])["Clusters"]
            if c["Name"] == "p-emr"]
    groups = {g["InstanceGroupType"]: g for g in emr.list_instance_groups(
        ClusterId=c["Id"])["InstanceGroups"]}
    managed = emr.get_managed_scaling_policy(ClusterId=c["Id"]).get("ManagedScalingPolicy")
    return (groups["TASK"]["RequestedInstanceCount"],
            bool(groups["TASK"].get("AutoScalingPolicy")),
            managed and managed["ComputeLimits"]["MaximumCapacityUnits"])


def planned(capsys, spec) -> set:
    capsys.readouterr()
    assert main(["cluster", "plan", str(spec), "--format", "json"]) == 0
    return {(r["action"], r["kind"], tuple(sorted(r["fields"]))) for r in json.loads(
        capsys.readouterr().out)["resources"]}


def test_emr_scaling_mode_edits_are_applied_not_kept(aws, tmp_path, capsys):
    """EMR on moto (managed scaling added to moto by ``_moto_emr``): switching the spec from
    automatic scaling rules to managed scaling removes the task group's rules and puts the
    managed policy (EMR refuses the two together, and so does ``_moto_emr``); new limits
    update it; switching back removes the managed policy (`plan`: remove, `up` asks) before
    putting the rules; no scaling with no task instances removes the rules and resizes the
    task group to 0 (EMR cannot delete an instance group; an empty one costs nothing). None
    of these needs a new cluster, and none may silently keep the old scaling."""
    assert main(["-q", "cluster", "up", str(emr_file(tmp_path, ""))]) == 0
    assert emr_state() == (1, True, None)

    managed = emr_file(tmp_path, 'mode = "managed"')
    assert {p for p in planned(capsys, managed) if p[0] != "unchanged"} == {
        ("update", "emr_cluster", ("task.AutoScalingPolicy",)),
        ("create", "emr_managed_scaling", ())}
    assert main(["-q", "cluster", "up", str(managed)]) == 0
    assert emr_state() == (1, False, 2 + 4)  # core + task max

    wider = emr_file(tmp_path, 'mode = "managed"').read_text().replace("max = 4", "max = 6")
    (tmp_path / "emr.toml").write_text(wider)
    assert ("update", "emr_managed_scaling",
            ("ManagedScalingPolicy.ComputeLimits.MaximumCapacityUnits",)) in planned(
        capsys, tmp_path / "emr.toml")
    assert main(["-q", "cluster", "up", str(tmp_path / "emr.toml")]) == 0
    assert emr_state() == (1, False, 2 + 6)

    rules = emr_file(tmp_path, "")
    assert {p for p in planned(capsys, rules) if p[0] != "unchanged"} == {
        ("update", "emr_cluster", ("task.AutoScalingPolicy",)),
        ("remove", "emr_managed_scaling", ())}
    assert main(["-q", "cluster", "up", "--yes", str(rules)]) == 0  # managed goes first
    assert emr_state() == (1, True, None)

    none = emr_file(tmp_path, 'mode = "none"', desired=0)
    none.write_text(none.read_text().replace("min = 1", "min = 0"))
    assert {p for p in planned(capsys, none) if p[0] != "unchanged"} == {
        ("update", "emr_cluster", ("task.AutoScalingPolicy", "task.InstanceCount"))}
    assert main(["-q", "cluster", "up", str(none)]) == 0
    assert emr_state() == (0, False, None)
    assert {p[0] for p in planned(capsys, none)} == {"unchanged"}
