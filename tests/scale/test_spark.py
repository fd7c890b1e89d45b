"""``--runner spark`` on a real Spark (pyspark's own, Java 17): ``local[2]`` and a
standalone master + worker on loopback must write the reference index, with the same
counts as the fast runner, each part sorted and partitioned like Hadoop's
KeyFieldBasedPartitioner. JVM start-ups are slow on two cores, so there is one build
per master and the standalone cluster is shared by the session."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
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
def test_spark_bad_record_notes_name_the_file(spark_env, tmp_path):
    """Each note names the input file and its line in that file, the notes reach the
    build's summary as on every other runner, and the counts equal the fast runner's.
    Two splits of one plain file (``local[2]``), a bad record in each (the second
    split's note comes back from the job as Hadoop's ``(split at byte S) line K``); a
    gzip file (one split). Before, the notes named a line of a split and no file, and
    showed only with ``-v``."""
    from invindex.build import build_index
    from invindex.core.analysis import Analyzer

    bad_at = (2_000, 7_777)
    lines = [b"BADLINE no tab\n" if i in bad_at else b"d%06d\tsome words %d\n" % (i, i)
             for i in range(1, 10_001)]
    plain, packed = tmp_path / "docs.tsv", tmp_path / "more.tsv.gz"
    plain.write_bytes(b"".join(lines))
    packed.write_bytes(gzip.compress(b"e1\tfine\n\tno id here\n"))
    inputs = [str(plain), str(packed)]
    spark = build_index(inputs, str(tmp_path / "spark"), Analyzer(), runner="spark", jobs=2)
    fast = build_index(inputs, str(tmp_path / "fast"), Analyzer())
    assert spark.manifest["counts"] == fast.manifest["counts"]
    assert spark.manifest["counts"]["bad_records"] == 3
    assert sorted(spark.notes) == [
        f"bad record at {plain}:2000 (no tab between doc_id and text): 'BADLINE no tab'",
        f"bad record at {plain}:7777 (no tab between doc_id and text): 'BADLINE no tab'",
        f"bad record at {packed}:2 (empty doc_id): '\\tno id here'"]


def test_split_notes_become_file_lines(tmp_path):
    """Hadoop's LineRecordReader starts a split at byte S > 0 after the first newline at
    or after S: the split's K-th line is the file's (newlines before S) + 1 + K, also
    when S is the first byte of a line (the split before reads that one)."""
    from invindex.runners.spark import in_file_lines

    path = tmp_path / "f.tsv"
    path.write_bytes(b"a\tx\nbb\ty\nccc\tz\nd\tw\n")  # lines start at 0, 4, 9, 15
    tail = "(no tab between doc_id and text): 'q'"
    for start, k, line in ((2, 1, 2), (4, 1, 3), (5, 2, 4), (9, 1, 4)):
        note = f"bad record at {path} (split at byte {start}) line {k} {tail}"
        assert in_file_lines(note) == f"bad record at {path}:{line} {tail}", (start, k)
    packed = f"bad record at {path}.bz2 (split at byte 5) line 1 {tail}"
    gone = f"bad record at {tmp_path}/gone.tsv (split at byte 5) line 1 {tail}"
    assert in_file_lines(packed) == packed and in_file_lines(gone) == gone


def test_spark_keeps_the_first_notes_in_file_order(tmp_path):
    """Spark's tasks report in any order: the five kept are the first five as the
    records stood (file, then split start and line as numbers, not as text), a split
    note made a file line (review: they were sorted as strings, so byte 10000 came
    before byte 9999 and line 10000 before line 2000)."""
    from invindex.runners.spark import kept_notes

    tail = "(no tab between doc_id and text): 'q'"
    path = tmp_path / "f.tsv"
    path.write_bytes(b"a\tx\n" * 4)  # lines start at 0, 4, 8, 12
    z = tmp_path / "z.tsv.bz2"
    notes = [f"bad record at {z} (split at byte 10000) line 1 {tail}",
             f"bad record at {z} (split at byte 9999) line 2 {tail}",
             f"bad record at {z}:10000 {tail}",
             f"bad record at {z}:2000 {tail}",
             f"bad record at {path} (split at byte 5) line 1 {tail}",
             f"bad record at {path}:1 {tail}"]
    assert kept_notes(notes) == [
        f"bad record at {path}:1 {tail}", f"bad record at {path}:3 {tail}",
        f"bad record at {z}:2000 {tail}", f"bad record at {z}:10000 {tail}",
        f"bad record at {z} (split at byte 9999) line 2 {tail}"]


def test_spark_default_python_on_a_remote_master_is_this_python(tmp_path):
    """The script that puts compiled pyspark first lives in this build's scratch
    directory, which a spark:// master's executors on other hosts cannot see: there
    the default python_bin stays this Python (review finding)."""
    import sys

    from invindex.runners import cluster

    remote = cluster.defaults("spark", 2, tmp_path, {"spark_master": "spark://h:7077"})
    assert remote["python_bin"] == [sys.executable]


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


_PROBE = """
import pyspark
from pyspark import SparkContext

def where(_):
    import pyspark
    yield pyspark.__file__, pyspark.__cached__

sc = SparkContext()
print("driver", *(pyspark.__file__, pyspark.__cached__), sep="\\t")
print("worker", *sc.parallelize([0], 1).mapPartitions(where).collect()[0], sep="\\t")
sc.stop()
"""


@pytest.mark.slow
@pytest.mark.spark
def test_spark_pythons_import_compiled_pyspark(spark_env, tmp_path):
    """Spark puts ``$SPARK_HOME/python/lib/pyspark.zip`` first on the PYTHONPATH of the
    driver's Python and of each Python worker, and a zip's modules are compiled at every
    import (~1.5 s of CPU for pyspark). With the spark runner's default ``python_bin``
    both import the installed pyspark, whose bytecode is cached: a real spark-submit
    (``local[1]``) reports where each found it."""
    from invindex.runners import cluster

    python = cluster.defaults("spark", 1, tmp_path / "work")["python_bin"]
    probe = tmp_path / "probe.py"
    probe.write_text(_PROBE)
    r = subprocess.run([os.path.join(spark_env, "bin", "spark-submit"), "--master",
                        "local[1]", str(probe)], env={**os.environ, "PYSPARK_PYTHON":
                       " ".join(python)}, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    where = {ln.split("\t")[0]: ln.split("\t")[1:] for ln in r.stdout.splitlines()
             if ln.startswith(("driver\t", "worker\t"))}
    installed = os.path.realpath(os.path.join(spark_env, "__init__.py"))
    assert sorted(where) == ["driver", "worker"], r.stdout
    for source, cached in where.values():
        assert os.path.realpath(source) == installed and ".zip" not in source, where
        assert cached and os.path.exists(cached), where


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
