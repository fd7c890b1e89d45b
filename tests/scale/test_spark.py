"""``--runner spark`` on a real Spark (pyspark's own, Java 17): ``local[2]`` and a
standalone master + worker on loopback must write the reference index, with the same
counts as the fast runner, each part sorted and partitioned like Hadoop's
KeyFieldBasedPartitioner. JVM start-ups are slow on two cores, so there is one build
per master and the standalone cluster is shared by the session."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from invindex.core import indexfmt
from tests.conftest import read_index_lines


def _check_index(out, expected, fast_counts, parts):
    assert read_index_lines(out) == expected
    m = json.loads((out / "_manifest.json").read_text())
    assert m["counts"] == fast_counts and m["runner"] == "spark"
    assert m["partitioning"] == {"scheme": indexfmt.HADOOP_KEYFIELD, "num_parts": parts}
    assert m["parts"] == [indexfmt.part_name(i) for i in range(parts)]
    for i, name in enumerate(m["parts"]):
        terms = [ln.split(b"\t", 1)[0] for ln in (out / name).read_bytes().splitlines()]
        assert terms == sorted(terms)
        assert all(indexfmt.partition_of(t.decode(), parts) == i for t in terms)
    assert (out / "_SUCCESS").exists()


@pytest.mark.slow
@pytest.mark.spark
def test_spark_local(spark_env, corpus, expected, fast_counts, tmp_path):
    from invindex.build import build_index
    from invindex.core.analysis import Analyzer

    out = tmp_path / "idx"
    build_index([str(corpus)], str(out), Analyzer(), runner="spark", jobs=2,
                parts=2)
    _check_index(out, expected, fast_counts, 2)


@pytest.mark.slow
@pytest.mark.spark
def test_spark_standalone_cluster(spark_standalone, spark_env, cli, corpus, expected,
                                  fast_counts, tmp_path):
    """Executors run ``python -S``: no site-packages, so invindex comes from the
    shipped invindex.zip (and mrjob from mrjob.zip), as on a cluster's nodes."""
    shim = tmp_path / "python-nosite"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -S "$@"\n')
    shim.chmod(0o755)
    out = tmp_path / "idx"
    r = cli("build", str(corpus), "-o", str(out), "--runner", "spark",
            "--spark-master", spark_standalone, "--parts", "3",
            "-O", f'task_python_bin=["{shim}"]')
    assert r.code == 0, r.err
    assert "Skipped 4 bad record(s)" in r.err
    _check_index(out, expected, fast_counts, 3)


@pytest.mark.slow
@pytest.mark.spark
def test_spark_empty_input_is_an_empty_index_without_a_warning(spark_env, cli, tmp_path):
    """No task runs on an empty input, so no counter is incremented: zero counts are
    right and no "returned no counters" warning is due (it was printed)."""
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"")
    out = tmp_path / "idx"
    r = cli("build", str(empty), "-o", str(out), "--runner", "spark", "--jobs", "1")
    assert r.code == 0, r.err
    assert "invindex: warning" not in r.err and "no counters" not in r.err, r.err
    m = json.loads((out / "_manifest.json").read_text())
    assert m["counts"]["documents"] == m["counts"]["terms"] == m["counts"]["tokens"] == 0


def test_spark_job_args(tmp_path):
    """What the mrjob Spark runner is given, without starting a JVM."""
    from invindex.core.analysis import Analyzer
    from invindex.runners.base import BuildRequest
    from invindex.runners.mrjob_runner import job_args

    req = BuildRequest([tmp_path / "a.tsv"], Analyzer.from_options(None, True), tmp_path,
                       tmp_path / "work", jobs=3, parts=4, runner_options={
                           "spark_master": "spark://h:7077"})
    args = job_args(req, "spark", tmp_path / "out")
    assert args[:2] == ["-r", "spark"]
    assert args[args.index("--py-files") + 1].endswith("/invindex.zip")
    assert "mapreduce.job.reduces=4" in args and "--stem" in args
    confs = [json.loads(Path(args[i + 1]).read_text()) for i, a in enumerate(args) if a == "-c"]
    defaults, given = confs[0]["runners"]["spark"], confs[-1]["runners"]["spark"]
    assert defaults["spark_master"] == "local[3]"
    assert defaults["spark_tmp_dir"] == str(tmp_path / "work" / "spark")  # never hdfs:///
    assert given == {"spark_master": "spark://h:7077"}  # the later conf wins


def test_unknown_runner_option_is_one_line(cli, tmp_path):
    pytest.importorskip("mrjob")
    r = cli("build", "x.tsv", "-o", str(tmp_path / "i"), "-r", "emr", "-O", "warp_speed=9")
    assert r.code == 2
    assert r.err.strip().splitlines() == [
        "invindex: error: unknown option(s) for the emr runner: warp_speed (runner options "
        "are mrjob's option names, e.g. release_label, instance_type, num_core_instances, "
        "cluster_id)"]


def test_runner_options_refused_for_local_runners(cli, tmp_path):
    r = cli("build", "x.tsv", "-o", str(tmp_path / "i"), "--cluster-id", "j-1")
    assert r.code == 2 and "apply to the spark, emr, hadoop and dataproc" in r.err


def test_missing_java_is_one_line(cli, tmp_path, monkeypatch):
    pytest.importorskip("pyspark")
    (tmp_path / "a.tsv").write_text("d\tx\n")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    r = cli("build", str(tmp_path / "a.tsv"), "-o", str(tmp_path / "i"), "-r", "spark")
    assert r.code == 1
    assert r.err.strip().splitlines() == [
        "invindex: error: the spark runner needs Java 17 (set JAVA_HOME or put `java` on PATH)"]


def test_missing_pyspark_is_one_line(cli, tmp_path, monkeypatch):
    (tmp_path / "a.tsv").write_text("d\tx\n")
    monkeypatch.setitem(sys.modules, "pyspark", None)
    r = cli("build", str(tmp_path / "a.tsv"), "-o", str(tmp_path / "i"), "-r", "spark")
    assert r.code == 1
    assert "pip install 'invindex[spark]'" in r.err and len(r.err.strip().splitlines()) == 1
