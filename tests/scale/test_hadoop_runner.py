"""``--runner hadoop`` (mrjob's Hadoop runner). No Hadoop distribution can be installed
here: the step's arguments are built by mrjob against a stub ``hadoop`` that only
answers ``version``, and a machine without a client gets one error line. Running the
same arguments is covered by the hadoop-command and EMR tests (the emulator)."""

from __future__ import annotations

import pytest

from invindex.core.analysis import Analyzer
from invindex.runners.base import BuildRequest

pytest.importorskip("mrjob")
KFP = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"


def test_no_hadoop_client_is_one_line(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("HADOOP_HOME", raising=False)
    monkeypatch.delenv("HADOOP_PREFIX", raising=False)
    r = cli("build", "hdfs:///corpus/", "-o", "hdfs:///idx", "-r", "hadoop")
    assert r.code == 1
    assert r.err.strip().splitlines() == [
        "invindex: error: the hadoop runner needs a Hadoop client: `hadoop` on PATH or "
        "$HADOOP_HOME (or -O hadoop_bin=PATH); to submit by hand, see `invindex "
        "hadoop-command`"]


def test_step_arguments(tmp_path, monkeypatch):
    from invindex.runners.hadoop_command import RECURSIVE_INPUT
    from invindex.runners.mrjob_runner import job_args
    from jobs.mr_invindex import MRInvertedIndex

    stub = tmp_path / "hadoop"
    stub.write_text('#!/bin/sh\n[ "$1" = version ] && echo "Hadoop 3.3.6"\nexit 0\n')
    stub.chmod(0o755)
    monkeypatch.setenv("HOME", str(tmp_path))
    req = BuildRequest([], Analyzer.from_options("english", True, 2), tmp_path,
                       tmp_path / "work", parts=5, runner_options={
                           "hadoop_bin": str(stub),
                           "hadoop_streaming_jar": "/opt/hadoop/streaming.jar"})
    args = job_args(req, "hadoop", "hdfs:///idx", ["hdfs:///corpus/"],
                    extra=["-D", RECURSIVE_INPUT])
    with MRInvertedIndex(args=args).make_runner() as mr:
        mr._create_setup_wrapper_scripts()  # what run() does first: ships the py_files
        step = mr._args_for_streaming_step(0)
    assert step[:3] == [str(stub), "jar", "/opt/hadoop/streaming.jar"]
    d = [step[i + 1] for i, a in enumerate(step) if a == "-D"]
    assert {"stream.num.map.output.key.fields=2",
            "mapreduce.partition.keypartitioner.options=-k1,1",
            "mapreduce.fileoutputcommitter.marksuccessfuljobs=false",
            "mapreduce.job.reduces=5", RECURSIVE_INPUT} <= set(d)
    assert step[step.index("-partitioner") + 1] == KFP
    assert step[step.index("-input") + 1] == "hdfs:///corpus/"
    assert step[step.index("-output") + 1] == "hdfs:///idx"
    files = step[step.index("-files") + 1]
    assert "#invindex.zip" in files and "#mr_invindex.py" in files
    mapper = step[step.index("-mapper") + 1]
    assert "setup-wrapper.sh python3 mr_invindex.py --step-num=0 --mapper" in mapper
    assert "--stopwords english --stem --min-token-length 2" in mapper


@pytest.mark.slow
def test_end_to_end_with_a_fake_hadoop_client(cli, fake_hdfs, expected, fast_counts):
    """mrjob's Hadoop runner driving ``_fake_hadoop`` (HDFS = a local directory, the job
    run by the emulator): mrjob uploads the files, submits, reads the counters; invindex
    finishes the index on "HDFS" with manifest and _SUCCESS, refuses to overwrite it, and
    replaces it with --overwrite."""
    import json

    from tests.conftest import read_index_lines

    root = fake_hdfs
    flags = ["-r", "hadoop", "--parts", "3", "-O", "hadoop_streaming_jar=/opt/streaming.jar"]
    r = cli("build", "hdfs:///corpus/", "-o", "hdfs:///idx", *flags)
    assert r.code == 0, r.err
    idx = root / "idx"
    assert sorted(p.name for p in idx.iterdir()) == [
        "_SUCCESS", "_manifest.json", "part-00000", "part-00001", "part-00002"]
    assert read_index_lines(idx) == expected
    m = json.loads((idx / "_manifest.json").read_text())
    assert m["counts"] == fast_counts and m["inputs"] == ["hdfs:///corpus/"]
    again = cli("build", "hdfs:///corpus/", "-o", "hdfs:///idx", *flags)
    assert again.code == 1 and "already exists" in again.err
    r = cli("build", "hdfs:///corpus/", "-o", "hdfs:///idx", "--overwrite", "--stem", *flags)
    assert r.code == 0, r.err
    assert json.loads((idx / "_manifest.json").read_text())["analyzer"]["stem"]
    assert (idx / "_SUCCESS").exists()
