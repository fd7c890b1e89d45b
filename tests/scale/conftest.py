"""Fixtures for the scale-out tests: a corpus with bad records, its reference lines,
a Python 3.9 for the node side when this machine has one, and Spark (local, a real
standalone master + worker on loopback started once per session, and a standalone
cluster across network-namespace "hosts", one per module, repaired between tests)."""

from __future__ import annotations

import bz2
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator, List

import pytest

from tests.conftest import SAMPLE, _die_with_parent
from tests.reference import reference_lines
from tests.scale import _netns

BAD = b"oops no tab\n\tempty id\nd\x02x\tcontrol\nbroken\t\xff\xfe utf8\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """The sample split over plain, gzip and bzip2 files, with four bad records, a
    hidden file and a _SUCCESS marker that every runner must skip."""
    root = tmp_path_factory.mktemp("corpus")
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    (root / "a.tsv").write_bytes(b"".join(lines[:150]) + BAD)
    sub = root / "sub"
    sub.mkdir()
    (sub / "b.tsv.gz").write_bytes(gzip.compress(b"".join(lines[150:300])))
    (sub / "c.tsv.bz2").write_bytes(bz2.compress(b"".join(lines[300:])))
    (sub / "_SUCCESS").write_bytes(b"")
    (sub / ".hidden.tsv").write_bytes(b"hidden\tnever indexed\n")
    return root


@pytest.fixture(scope="session")
def corpus_bytes() -> bytes:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    return b"".join(lines[:150]) + BAD + b"".join(lines[150:])


@pytest.fixture(scope="session")
def expected(corpus_bytes) -> List[str]:
    return reference_lines(corpus_bytes)


@pytest.fixture(scope="session")
def fast_index(corpus, tmp_path_factory) -> Path:
    """The corpus indexed by the default (fast) runner."""
    from invindex.build import build_index
    from invindex.core.analysis import Analyzer

    out = tmp_path_factory.mktemp("fast") / "idx"
    build_index([str(corpus)], str(out), Analyzer())
    return out


@pytest.fixture(scope="session")
def fast_counts(fast_index) -> dict:
    import json

    return json.loads((fast_index / "_manifest.json").read_text())["counts"]


@pytest.fixture(scope="session")
def node_python(request) -> str:
    """Python 3.9 (EMR 7's python3) when this machine has one, else this Python."""
    try:
        return request.getfixturevalue("python39")
    except pytest.skip.Exception:
        return sys.executable


@pytest.fixture
def fake_hdfs(tmp_path, monkeypatch, corpus, node_python) -> Path:
    """``hadoop`` on PATH is ``_fake_hadoop.py`` (HDFS = the returned directory, holding
    the corpus as ``hdfs:///corpus/``; jobs run under ``node_python``), for mrjob's
    Hadoop runner; HOME is the test's own."""
    root = tmp_path / "hdfs"
    shutil.copytree(corpus, root / "corpus")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = Path(__file__).with_name("_fake_hadoop.py")
    (bin_dir / "hadoop").write_text(f'#!/bin/sh\nexec {sys.executable} {fake} "$@"\n')
    (bin_dir / "hadoop").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_HDFS_ROOT", str(root))
    monkeypatch.setenv("FAKE_HADOOP_PYTHON", node_python)
    monkeypatch.setenv("HOME", str(tmp_path))
    return root


# -- Spark ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def spark_home() -> str:
    pytest.importorskip("pyspark")
    import pyspark

    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        if os.environ.get("CI"):
            pytest.fail("Java 17 is required for the Spark tests in CI")
        pytest.skip("no Java")
    return os.path.dirname(pyspark.__file__)


# Every JVM the Spark tests start (spark-submit, and through a worker's environment the
# executors) compiles with C1 only and collects with the serial collector: about half the
# CPU of the defaults for runs this short, the same Spark. (The JVM says "Picked up
# JAVA_TOOL_OPTIONS" on stderr; mrjob only logs it.)
JAVA_TOOL_OPTIONS = {"JAVA_TOOL_OPTIONS": _netns.JVM_OPTS}


@pytest.fixture
def spark_env(spark_home, monkeypatch) -> str:
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    for name, value in JAVA_TOOL_OPTIONS.items():
        monkeypatch.setenv(name, value)
    return spark_home


def _wait_for_worker(ui_port: int, proc: subprocess.Popen, log: Path, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"spark master exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as r:
                if re.search(rb'"aliveworkers"\s*:\s*[1-9]', r.read()):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the spark worker did not register with the master in time")


@pytest.fixture(scope="session")
def spark_standalone(spark_home, tmp_path_factory) -> Iterator[str]:
    """A real standalone master and one 2-core worker on loopback; yields the master URL.

    pyspark's pip package has no start-master.sh, so both run through spark-class (which
    execs the JVM in the foreground, as our child). They get SIGTERM when this process
    dies, even by SIGKILL with no teardown (PR_SET_PDEATHSIG); the worker's shutdown hook
    then stops its executors.
    """
    root = tmp_path_factory.mktemp("spark-standalone")
    port, ui, wui = free_port(), free_port(), free_port()
    env = {**os.environ, **JAVA_TOOL_OPTIONS, "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_HOME": spark_home, "SPARK_LOG_DIR": str(root),
           "SPARK_WORKER_DIR": str(root / "work"),
           # no fixed-port REST server (6066) to collide with another run
           "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false"}
    spark_class = os.path.join(spark_home, "bin", "spark-class")
    procs: List[subprocess.Popen] = []
    master_log = root / "master.log"
    url = f"spark://127.0.0.1:{port}"
    try:
        with open(master_log, "wb") as mlog, open(root / "worker.log", "wb") as wlog:
            procs.append(subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                 "--port", str(port), "--webui-port", str(ui)],
                env=env, stdout=mlog, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent))
            procs.append(subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host",
                 "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port", str(wui),
                 "--work-dir", str(root / "work")],
                env=env, stdout=wlog, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent))
        _wait_for_worker(ui, procs[0], master_log)
        yield url
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def netns_hosts(spark_home) -> Iterator[_netns.Hosts]:
    """Four "hosts" (master, w1, w2, driver) on one bridge, each a network namespace
    with one private address; deleted at the end of the module, whatever its tests did."""
    why = _netns.why_unavailable()
    if why:
        pytest.skip(f"no network namespaces: {why}")
    _netns.remove_stale()
    hosts = _netns.Hosts(["master", "w1", "w2", "driver"])
    try:
        yield hosts.create()
    finally:
        hosts.destroy()


@pytest.fixture(scope="module")
def spark_cluster(netns_hosts, spark_home, tmp_path_factory) -> _netns.SparkHosts:
    """A standalone master and two 1-core workers, each on its own host, registered;
    one for the module (a cluster of JVMs takes 15-30 s to start on two cores).
    Workers beat every 2.5 s and the master forgets a silent one after 10 s (default
    15 s and 60 s: both read spark.worker.timeout)."""
    spark = _netns.SparkHosts(netns_hosts, spark_home, tmp_path_factory.mktemp("spark"),
                              daemon_opts=["-Dspark.worker.timeout=10"])
    spark.start_master()
    for worker in ("w1", "w2"):
        spark.start_worker(worker)
    spark.wait_for(r"Registering worker", 2)
    return spark


@pytest.fixture
def spark_hosts(spark_cluster, tmp_path) -> _netns.SparkHosts:
    """The module's cluster as a test finds it: both workers alive and registered (a
    worker an earlier test cut off or killed is replaced first), nothing left on the
    driver's host, the test's own driver log and executor logs."""
    spark_cluster.repair()
    spark_cluster.begin(tmp_path)
    return spark_cluster


# -- AWS: the session's moto server (tests/conftest.py, with the EMR fix mrjob needs) ---
@pytest.fixture
def aws(moto_server, monkeypatch, tmp_path) -> str:
    """A clean moto account through the standard environment (dummy credentials exist
    only here), no user mrjob.conf, and the buckets the EMR tests use."""
    pytest.importorskip("mrjob")
    import boto3
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "MRJOB_CONF"):
        monkeypatch.delenv(var, raising=False)
    env = {"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
           "HOME": str(tmp_path)}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s3 = boto3.client("s3")
    for bucket in ("corpus-in", "index-out", "mrjob-tmp"):
        s3.create_bucket(Bucket=bucket)
    return moto_server


# -- GCS: the session's gcp-storage-emulator (tests/conftest.py), for Dataproc ----------
@pytest.fixture
def gcs(gcs_server, monkeypatch) -> str:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "invindex-test")
    return gcs_server
