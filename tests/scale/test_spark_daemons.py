"""The Spark daemons the tests start die with the pytest session that started them,
even when that session is SIGKILLed and no teardown runs: a pytest of its own runs
``_spark_hold.py`` (the real fixtures, real JVMs), is killed, and the JVMs it started
must be gone within seconds (they used to run on: the standalone pair for ever, the
network-namespace daemons until their 30-minute ``timeout``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from tests.scale import _netns

HOLD = Path(__file__).with_name("_spark_hold.py")
REPO = Path(__file__).resolve().parents[2]


def _pids_with(text: str) -> List[int]:
    """The processes whose environment contains ``text`` (the inner session's
    basetemp: every daemon's ``SPARK_LOG_DIR`` is under it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
    return found


def _java(pids: List[int]) -> List[int]:
    out = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/exe").resolve().name == "java":
                out.append(pid)
    return out


def _held_session(test: str, tmp_path: Path, timeout: float = 240) -> subprocess.Popen:
    ready = tmp_path / "ready"
    env = {**os.environ, "INVINDEX_HOLD_READY": str(ready),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'inner'}", f"{HOLD}::{test}"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the held session did not get ready (exit {proc.poll()})")
        time.sleep(0.3)
    return proc


def _killed_leaves_no_jvm(proc: subprocess.Popen, marker: str, expect: int) -> None:
    jvms = _java(_pids_with(marker))
    try:
        assert len(jvms) == expect, jvms
        os.kill(proc.pid, signal.SIGKILL)  # no teardown, no atexit: only the kernel acts
        proc.wait()
        deadline = time.monotonic() + 30
        while _java(jvms) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not _java(jvms), f"still running after the session was killed: {jvms}"
    finally:  # never leave them behind, whatever the outcome
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        for pid in _java(jvms):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_standalone_daemons_die_with_a_killed_session(spark_home, tmp_path):
    proc = _held_session("test_hold_standalone", tmp_path)
    _killed_leaves_no_jvm(proc, str(tmp_path / "inner"), 2)  # master and worker


@pytest.mark.slow
def test_netns_daemons_die_with_a_killed_session(spark_home, tmp_path):
    why = _netns.why_unavailable()
    if why:
        pytest.skip(f"no network namespaces: {why}")
    proc = _held_session("test_hold_netns_master", tmp_path)
    try:
        _killed_leaves_no_jvm(proc, str(tmp_path / "inner"), 1)
    finally:
        _netns.remove_stale()  # the killed session's namespaces (its PID is gone)
