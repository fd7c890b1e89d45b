"""``--runner spark`` across hosts: a real Spark standalone master, two workers and the
driver, each in its own network namespace with its own address on one bridge
(``tests/scale/_netns.py``). The index must equal the fast runner's with both workers
running tasks, when one worker's link goes down mid-job, and when one worker host dies
mid-job; a job no worker accepts stops after ``--spark-start-timeout`` with one line.

To hit a worker *mid-job* for sure, the executors' Python is a small shim that, on w2,
holds the first Python worker until the test has cut the link or killed the host
(``task_python_bin`` is an ordinary mrjob option). Executors run it with ``python -S``,
so invindex and mrjob come only from the shipped zips, as on real nodes. The tests share
one cluster (JVMs are costly on two cores, memory is kept small): before each test, a
worker an earlier one cut off or killed is replaced by a fresh one on the same host, and
each test reads only its own application's logs.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from tests.conftest import REPO, read_index_lines
from tests.scale._netns import JVM_OPTS

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Small JVMs; the scheduler waits until both executors are registered, so both get tasks.
SMALL = {"spark.executor.memory": "512m", "spark.driver.memory": "512m",
         "spark.driver.extraJavaOptions": JVM_OPTS, "spark.executor.extraJavaOptions": JVM_OPTS,
         "spark.ui.enabled": "false", "spark.scheduler.minRegisteredResourcesRatio": "1.0",
         "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s"}
# A silent executor is declared lost after 15 s instead of 120 s.
SHORT_TIMEOUTS = {"spark.network.timeout": "15s", "spark.network.timeoutInterval": "2s",
                  "spark.executor.heartbeatInterval": "2s",
                  "spark.shuffle.io.maxRetries": "1", "spark.shuffle.io.retryWait": "1s"}

SHIM = """#!/bin/sh
# On {host} the first Python worker waits until the test says go (at most 60 s).
case "$PWD" in
*/work-{host}/*)
    if [ ! -e {hold}/go ]; then
        touch {hold}/started
        n=0
        while [ ! -e {hold}/go ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
    fi;;
esac
exec {python} -S "$@"
"""


def _hold(tmp_path: Path, host: str = "w2") -> Path:
    hold = tmp_path / "hold"
    hold.mkdir()
    shim = tmp_path / "python-shim"
    shim.write_text(SHIM.format(host=host, hold=hold, python=sys.executable))
    shim.chmod(0o755)
    return hold


def _build(spark, corpus: Path, out: Path, shim: Path, conf: Dict[str, str],
           *extra: str):
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(out.parent)}
    return spark.submit([sys.executable, "-m", "invindex", "build", str(corpus), "-o",
                         str(out), "--runner", "spark", "--spark-master", spark.url,
                         "--parts", "2", "-O", f"task_python_bin={json.dumps([str(shim)])}",
                         "-O", f"jobconf={json.dumps(conf)}", *extra], env)


def _wait_file(path: Path, proc, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"the build ended before {path.name} appeared"
        assert time.monotonic() < deadline, f"no {path.name} in {timeout} s"
        time.sleep(0.2)


def _ran_tasks(spark, host: str, what: str = "Running task") -> List[str]:
    return [line for log in spark.executor_logs(host)
            for line in log.read_text("utf-8", "replace").splitlines()
            if what in line]


def _same_as_fast(out: Path, fast_index: Path, fast_counts: dict) -> None:
    assert read_index_lines(out) == read_index_lines(fast_index)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["counts"] == fast_counts and manifest["runner"] == "spark"
    assert (out / "_SUCCESS").exists()


def _lost_only(driver_log: str, address: Dict[str, str]) -> None:
    """The driver lost w2's executor, and only that one."""
    lost = set(re.findall(r"Lost executor \d+ on ([\d.]+)", driver_log))
    assert lost == {address["w2"]}, driver_log[-3000:]


def _finish(spark, proc) -> str:
    code = proc.wait(timeout=420)
    log = spark.driver_output()
    assert code == 0, log[-3000:]
    return log


def test_two_worker_hosts(spark_hosts, corpus, fast_index, fast_counts, tmp_path):
    hold = _hold(tmp_path)
    (hold / "go").touch()
    out = tmp_path / "idx"
    _finish(spark_hosts, _build(spark_hosts, corpus, out, tmp_path / "python-shim", SMALL))
    _same_as_fast(out, fast_index, fast_counts)
    assert _ran_tasks(spark_hosts, "w1") and _ran_tasks(spark_hosts, "w2")


def test_worker_link_down_mid_job(spark_hosts, netns_hosts, corpus, fast_index,
                                  fast_counts, tmp_path):
    """w2's bridge port goes down while it holds a task: its packets vanish, the
    driver declares the executor lost after spark.network.timeout and reruns its
    tasks on w1."""
    hold = _hold(tmp_path)
    out = tmp_path / "idx"
    proc = _build(spark_hosts, corpus, out, tmp_path / "python-shim",
                  {**SMALL, **SHORT_TIMEOUTS})
    _wait_file(hold / "started", proc)
    netns_hosts.cut("w2")
    (hold / "go").touch()
    log = _finish(spark_hosts, proc)
    _same_as_fast(out, fast_index, fast_counts)
    _lost_only(log, netns_hosts.address)


def test_worker_host_killed_mid_job(spark_hosts, netns_hosts, corpus, fast_index,
                                    fast_counts, tmp_path):
    """Every process on w2 (worker, executor, Python) is SIGKILLed while it holds a
    task; Spark reruns the task on w1."""
    hold = _hold(tmp_path)
    out = tmp_path / "idx"
    proc = _build(spark_hosts, corpus, out, tmp_path / "python-shim",
                  {**SMALL, **SHORT_TIMEOUTS})
    _wait_file(hold / "started", proc)
    assert netns_hosts.crash("w2")
    log = _finish(spark_hosts, proc)
    assert netns_hosts.pids("w2") == []
    _same_as_fast(out, fast_index, fast_counts)
    _lost_only(log, netns_hosts.address)


def test_worker_host_killed_after_its_map_tasks(spark_hosts, netns_hosts, corpus,
                                                fast_index, fast_counts, tmp_path):
    """w1 is held at its first task, so w2 runs the other map tasks; once w2 has
    finished one, every process on w2 is killed and w1 goes on. The finished map
    output is lost with w2, and Spark reruns that task on w1: the index and the counts
    are the same. (mrjob's Spark harness counts with accumulators, which Spark applies
    again for a map task it reruns after it had succeeded: the job counts on the reduce
    side only, ``test_rerun_counts.py``.) The rerun is checked in the executors' logs, so
    the test cannot pass without it."""
    hold = _hold(tmp_path, "w1")
    out = tmp_path / "idx"
    proc = _build(spark_hosts, corpus, out, tmp_path / "python-shim",
                  {**SMALL, **SHORT_TIMEOUTS})
    _wait_file(hold / "started", proc)
    deadline = time.monotonic() + 180
    while not any("Finished task" in line for log in spark_hosts.executor_logs("w2")
                  for line in log.read_text("utf-8", "replace").splitlines()):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(3)  # for the driver to take the result in
    assert netns_hosts.crash("w2")
    (hold / "go").touch()
    log = _finish(spark_hosts, proc)
    _same_as_fast(out, fast_index, fast_counts)
    _lost_only(log, netns_hosts.address)
    # a map task w2 had finished ran again on w1 (a later attempt of the same task)
    done = {host: set(re.findall(r"Finished task (\d+)\.(\d+) in stage 0\.", "\n".join(
        _ran_tasks(spark_hosts, host, "Finished task")))) for host in ("w1", "w2")}
    assert {i for i, a in done["w2"] if a == "0"} & {i for i, a in done["w1"] if a != "0"}, done


def test_job_no_worker_accepts_stops_with_one_line(spark_hosts, netns_hosts, corpus,
                                                     tmp_path):
    """Each worker has 640 MB; the job asks 2 GB per executor, so Spark waits for
    ever ("Initial job has not accepted any resources"). With --spark-start-timeout
    (here from the environment) the build stops: one error line naming the master and
    Spark's words, exit 1, no process left on the driver's host, the application
    removed from the master, no index."""
    spark = spark_hosts
    shim = tmp_path / "python-shim"
    _hold(tmp_path)
    out = tmp_path / "idx"
    conf = {**SMALL, "spark.executor.memory": "2g", "spark.starvation.timeout": "2s"}
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path),
           "INVINDEX_SPARK_START_TIMEOUT": "20"}
    proc = spark.submit([sys.executable, "-m", "invindex", "-q", "build", str(corpus),
                         "-o", str(out), "--runner", "spark", "--spark-master", spark.url,
                         "-O", f"task_python_bin={json.dumps([str(shim)])}",
                         "-O", f"jobconf={json.dumps(conf)}"], env)
    assert proc.wait(timeout=420) == 1
    err = spark.driver_output()
    assert err.strip().splitlines() == [
        f"invindex: error: the Spark job never started: the master {spark.url} gave it no "
        "executor within 20 s (Spark: Initial job has not accepted any resources; check "
        "your cluster UI to ensure that workers are registered and have sufficient "
        "resources); stopped it (--spark-start-timeout)"]
    assert netns_hosts.pids("driver") == []
    spark.wait_for(r"Removing app app-", 1, timeout=30)
    assert not out.exists()
