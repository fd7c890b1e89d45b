"""The Spark start watchdog without a JVM: a real child process stands for spark-submit
(its command line says ``spark-submit``, in a session of its own as mrjob's PTY makes
it), fed the lines the driver would print. The full case, a real master that no worker
accepts, is ``test_multihost.py::test_job_no_worker_accepts_stops_with_one_line``."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from invindex.errors import InvindexError
from invindex.runners.spark_watchdog import STARVED, StartWatchdog

STARVED_LINE = (f"{STARVED}; check your cluster UI to ensure that workers are registered "
                "and have sufficient resources")


def _fake_spark_submit() -> subprocess.Popen:
    return subprocess.Popen(["sh", "-c", "sleep 60 & wait", "spark-submit"],
                            start_new_session=True)


def test_a_starved_job_is_stopped_with_one_line():
    dog = StartWatchdog("spark://10.0.0.5:7077", 0.5)
    bystander = subprocess.Popen(["sleep", "60"])  # another child: left alone
    try:
        with pytest.raises(InvindexError) as e, dog.watching():
            child = _fake_spark_submit()
            dog.see(STARVED_LINE)
            child.wait(timeout=30)
            raise RuntimeError("step failed")  # what mrjob raises once the driver died
        assert str(e.value) == (
            f"the Spark job never started: the master spark://10.0.0.5:7077 gave it no "
            f"executor within 0.5 s (Spark: {STARVED_LINE}); stopped it "
            "(--spark-start-timeout)")
        assert child.returncode == -signal.SIGTERM
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.parametrize("lines", [[], [STARVED_LINE, "Starting task 0.0 in stage 0.0"]],
                         ids=["never-starved", "started-after-all"])
def test_a_job_that_runs_is_left_alone(lines):
    dog = StartWatchdog("spark://m:7077", 0.2)
    with dog.watching():
        child = _fake_spark_submit()
        for line in lines:
            dog.see(line)
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=1.5)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    assert dog.fired is None


def test_zero_waits_for_ever():
    dog = StartWatchdog("spark://m:7077", 0)
    with dog.watching():
        dog.see(STARVED_LINE)
    assert dog.fired is None
