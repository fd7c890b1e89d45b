"""``--runner emr`` against moto's server, as far as it goes.

moto creates the cluster, stores the uploaded files and the step, and never runs it:
these tests assert the cluster (release, roles, instance types, tags), the files (the
shipped invindex.zip is this checkout's core) and the exact step arguments
(key fields, ``KeyFieldBasedPartitioner -k1,1``, Hadoop's ``_SUCCESS`` off, reducers,
``-files``). Beyond moto: one test runs the submitted arguments through
``_hadoop_emulator`` (python3 -S, 3.9 when present, in a clean task directory), writes
the parts and a step syslog with counters to moto's S3 as EMR would, and marks the step
COMPLETED in moto's backend, so that mrjob's counter reading and our manifest/_SUCCESS
finishing run for real; another marks it FAILED. Interrupting a run (Ctrl-C, SIGTERM)
must terminate the cluster it created and leave a given ``--cluster-id`` running.

Not exercised: real EMR (bootstrap, YARN, the S3 committer, log shipping delays),
SSH log fetching, pooling.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _hadoop_emulator import run as run_streaming

from tests.conftest import REPO
from tests.reference import reference_lines

pytestmark = pytest.mark.emulator

OPTS = ["--region", "us-east-1", "-O", "cloud_tmp_dir=s3://mrjob-tmp/mrjob/",
        "-O", "cloud_fs_sync_secs=0", "-O", "check_cluster_every=0.1"]
KFP = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
MOTO_ACCOUNT = "123456789012"  # moto's default account


def _upload_corpus(corpus: Path) -> str:
    import boto3

    s3 = boto3.client("s3")
    for f in corpus.rglob("*"):
        if f.is_file():
            s3.upload_file(str(f), "corpus-in", f"corpus/{f.relative_to(corpus).as_posix()}")
    return "s3://corpus-in/corpus/"


def _clusters():
    import boto3

    emr = boto3.client("emr")
    return [emr.describe_cluster(ClusterId=c["Id"])["Cluster"]
            for c in emr.list_clusters()["Clusters"]]


def _steps(cluster_id: str):
    import boto3

    return boto3.client("emr").list_steps(ClusterId=cluster_id)["Steps"]


def _keys(bucket: str, prefix: str = ""):
    import boto3

    resp = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def _s3_read(uri: str) -> bytes:
    import boto3

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def _dash_d(args):
    return [args[i + 1] for i, a in enumerate(args) if a == "-D"]


def _interrupt_when_submitted(monkeypatch):
    """Ctrl-C while mrjob waits for the step (moto would keep it RUNNING forever)."""
    from mrjob.emr import EMRJobRunner

    def wait(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(EMRJobRunner, "_wait_for_steps_to_complete", wait)


def test_step_arguments_and_interrupt_terminates(aws, cli, corpus, monkeypatch, tmp_path):
    from invindex.runners.package import build_zip

    src = _upload_corpus(corpus)
    _interrupt_when_submitted(monkeypatch)
    r = cli("build", src, "-o", "s3://index-out/idx", "-r", "emr", "--parts", "3", "--stem",
            "--instance-type", "m5.large", "--num-workers", "3", *OPTS)
    assert r.code == 130 and r.err.strip().endswith("invindex: interrupted"), r.err
    [cluster] = _clusters()
    assert cluster["Status"]["State"] == "TERMINATED"  # the run created it: gone
    assert cluster["ReleaseLabel"] == "emr-7.1.0"  # python3 3.9 on the nodes
    assert cluster["ServiceRole"] == "EMR_DefaultRole"
    assert cluster["Ec2InstanceAttributes"]["IamInstanceProfile"] == "EMR_EC2_DefaultRole"
    assert {"Key": "managed-by", "Value": "invindex"} in cluster["Tags"]
    assert cluster["LogUri"] == "s3://mrjob-tmp/mrjob/logs/"
    import boto3

    groups = boto3.client("emr").list_instance_groups(ClusterId=cluster["Id"])["InstanceGroups"]
    assert {(g["InstanceGroupType"], g["InstanceType"], g["RequestedInstanceCount"])
            for g in groups} == {("MASTER", "m5.large", 1), ("CORE", "m5.large", 3)}

    [step] = _steps(cluster["Id"])
    args = step["Config"]["Args"]
    assert step["Config"]["Jar"] == "command-runner.jar" and args[0] == "hadoop-streaming"
    d = _dash_d(args)
    assert "stream.num.map.output.key.fields=2" in d
    assert "mapreduce.partition.keypartitioner.options=-k1,1" in d
    assert "mapreduce.fileoutputcommitter.marksuccessfuljobs=false" in d
    assert "mapreduce.job.reduces=3" in d
    assert "mapreduce.input.fileinputformat.input.dir.recursive=true" in d
    assert args[args.index("-partitioner") + 1] == KFP
    assert args[args.index("-input") + 1] == src
    assert args[args.index("-output") + 1] == "s3://index-out/idx/"
    files = dict(f.split("#")[::-1] for f in args[args.index("-files") + 1].split(","))
    assert set(files) == {"invindex.zip", "mr_invindex.py", "mrjob.zip", "setup-wrapper.sh"}
    for role in ("mapper", "combiner", "reducer"):
        cmd = args[args.index(f"-{role}") + 1]
        assert cmd.startswith("/bin/sh -x setup-wrapper.sh python3 mr_invindex.py")
        assert f"--{role}" in cmd and "--stem" in cmd
    # the uploaded files: this checkout's core and job, put on PYTHONPATH by the wrapper
    assert _s3_read(files["invindex.zip"]) == build_zip(tmp_path).read_bytes()
    assert _s3_read(files["mr_invindex.py"]) == (REPO / "jobs/mr_invindex.py").read_bytes()
    assert "invindex.zip" in _s3_read(files["setup-wrapper.sh"]).decode()
    assert _keys("index-out") == []  # nothing at the output: no index, no _SUCCESS


def _complete_with_emulated_hadoop(monkeypatch, python, fail=False):
    """Do the step's work as Hadoop would, then let mrjob see it COMPLETED (or FAILED)."""
    import boto3
    import mrjob.emr
    from moto.emr.models import emr_backends

    monkeypatch.setattr(mrjob.emr, "_S3_LOG_WAIT_MINUTES", 0)  # EMR ships logs every 5 min
    original = mrjob.emr.EMRJobRunner._wait_for_steps_to_complete
    s3 = boto3.client("s3")

    def list_inputs(uri):
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        keys = [k for k in _keys(bucket, prefix) if not any(
            p.startswith(("_", ".")) for p in k[len(prefix):].split("/"))]
        return [f"s3://{bucket}/{k}" for k in keys]

    def wait(self):
        cluster = emr_backends[MOTO_ACCOUNT]["us-east-1"].clusters[self.get_cluster_id()]
        for step in cluster.steps:
            if fail:
                step.state = "FAILED"
                continue
            parts, counters = run_streaming(step.args[1:], _s3_read, list_inputs, python)
            out = step.args[step.args.index("-output") + 1].removeprefix("s3://")
            bucket, _, prefix = out.partition("/")
            for i, data in enumerate(parts):
                s3.put_object(Bucket=bucket, Key=f"{prefix}part-{i:05d}", Body=data)
            lines = "".join(f"\t\t{k}={v}\n" for k, v in sorted(counters.items()))
            syslog = ("2026-01-01 00:00:00,000 INFO org.apache.hadoop.mapreduce.Job (main): "
                      f"Counters: {len(counters)}\n\tinvindex\n{lines}")
            s3.put_object(Bucket="mrjob-tmp", Key=f"mrjob/logs/{cluster.id}/steps/{step.id}/"
                          "syslog.gz", Body=gzip.compress(syslog.encode()))
            step.state = "COMPLETED"
        return original(self)

    monkeypatch.setattr(mrjob.emr.EMRJobRunner, "_wait_for_steps_to_complete", wait)


@pytest.mark.slow
def test_emr_end_to_end_with_emulated_hadoop(aws, cli, corpus, corpus_bytes, fast_counts,
                                             monkeypatch, node_python):
    """The submitted arguments, run by the emulator, give the reference index at S3."""
    src = _upload_corpus(corpus)
    _complete_with_emulated_hadoop(monkeypatch, node_python)
    r = cli("build", src, "-o", "s3://index-out/idx", "-r", "emr", "--parts", "3", *OPTS)
    assert r.code == 0, r.err
    keys = _keys("index-out")
    assert keys == ["idx/_SUCCESS", "idx/_manifest.json", "idx/part-00000", "idx/part-00001",
                    "idx/part-00002"]
    m = json.loads(_s3_read("s3://index-out/idx/_manifest.json"))
    assert m["counts"] == fast_counts and m["runner"] == "emr"
    assert m["partitioning"] == {"scheme": "hadoop-keyfield", "num_parts": 3}
    assert m["inputs"] == [src]
    lines = sorted((ln for k in keys if "part-" in k
                    for ln in _s3_read(f"s3://index-out/{k}").decode().split("\n")[:-1]),
                   key=lambda s: s.encode())
    assert lines == reference_lines(corpus_bytes)
    look = cli("lookup", "s3://index-out/idx", "light")
    assert look.code == 0 and look.out.startswith('light\t{"df":14,')
    assert [c["Status"]["State"] for c in _clusters()] == ["TERMINATED"]
    # a second build refuses the existing index; --overwrite replaces it
    again = cli("build", src, "-o", "s3://index-out/idx", "-r", "emr", *OPTS)
    assert again.code == 1 and "already exists" in again.err
    assert len(_clusters()) == 1  # refused before any cluster was created


@pytest.mark.slow
def test_emr_local_inputs_and_local_output(aws, cli, corpus, expected, fast_counts,
                                           monkeypatch, node_python, tmp_path):
    """mrjob uploads local inputs; the parts come back from its temporary output."""
    from tests.conftest import read_index_lines

    _complete_with_emulated_hadoop(monkeypatch, node_python)
    out = tmp_path / "idx"
    r = cli("build", str(corpus), "-o", str(out), "-r", "emr", "--parts", "2", *OPTS)
    assert r.code == 0, r.err
    assert read_index_lines(out) == expected
    m = json.loads((out / "_manifest.json").read_text())
    assert m["counts"] == fast_counts and m["parts"] == ["part-00000", "part-00001"]
    assert (out / "_SUCCESS").exists()
    [step] = _steps(_clusters()[0]["Id"])
    inputs = [a for i, a in enumerate(step["Config"]["Args"][1:]) if
              step["Config"]["Args"][i] == "-input"]
    assert len(inputs) == 3 and all(i.startswith("s3://mrjob-tmp/") for i in inputs)
    assert not any("hidden" in i or "_SUCCESS" in i for i in inputs)


def test_failed_step_is_one_line_and_terminates(aws, cli, corpus, monkeypatch, node_python):
    src = _upload_corpus(corpus)
    _complete_with_emulated_hadoop(monkeypatch, node_python, fail=True)
    r = cli("build", src, "-o", "s3://index-out/idx", "-r", "emr", *OPTS)
    assert r.code == 1
    assert r.err.strip().splitlines()[-1].startswith("invindex: error: mrjob emr runner: "
                                                     "Step 1 of 1 failed")
    assert [c["Status"]["State"] for c in _clusters()] == ["TERMINATED"]
    assert "idx/_SUCCESS" not in _keys("index-out")


def _build_process(args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "invindex", "build", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=REPO)


def _wait_for_step(proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for c in _clusters():
            if _steps(c["Id"]):
                return c["Id"]
        time.sleep(0.2)
    raise AssertionError("no step was submitted")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_terminates_the_cluster_the_run_created(aws, corpus, sig):
    src = _upload_corpus(corpus)
    proc = _build_process([src, "-o", "s3://index-out/idx", "-r", "emr", *OPTS])
    cluster_id = _wait_for_step(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err.decode()  # 130 for SIGINT, 143 for SIGTERM
    assert err.decode().strip().splitlines()[-1] == "invindex: interrupted"
    [cluster] = _clusters()
    assert cluster["Id"] == cluster_id
    assert cluster["Status"]["State"] in ("TERMINATING", "TERMINATED")


def test_signal_leaves_a_given_cluster_running(aws, corpus):
    import boto3

    src = _upload_corpus(corpus)
    given = boto3.client("emr").run_job_flow(
        Name="mine", ReleaseLabel="emr-7.1.0", ServiceRole="EMR_DefaultRole",
        JobFlowRole="EMR_EC2_DefaultRole", Applications=[{"Name": "Hadoop"}],
        Instances={"MasterInstanceType": "m5.xlarge", "SlaveInstanceType": "m5.xlarge",
                   "InstanceCount": 3, "KeepJobFlowAliveWhenNoSteps": True})["JobFlowId"]
    proc = _build_process([src, "-o", "s3://index-out/idx", "-r", "emr", "--cluster-id",
                           given, *OPTS])
    assert _wait_for_step(proc) == given
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err.decode()
    [cluster] = _clusters()
    assert cluster["Status"]["State"] not in ("TERMINATING", "TERMINATED")
    # we also try to cancel our own step (moto has no CancelSteps: a warning says so)
    assert "cancel" in err.decode()


def test_no_credentials_is_one_line(cli, tmp_path, monkeypatch):
    pytest.importorskip("boto3")
    pytest.importorskip("mrjob")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
                "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "a.tsv").write_text("d\tx\n")
    r = cli("build", str(tmp_path / "a.tsv"), "-o", str(tmp_path / "i"), "-r", "emr")
    assert r.code == 1
    assert r.err.strip().splitlines() == [
        "invindex: error: no AWS credentials found (boto3's default chain: environment, "
        "profile, SSO, instance role); the emr runner needs them"]
