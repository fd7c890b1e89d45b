"""Helpers for the odd-input tests: build with a runner in a subprocess (so that a hang
is a failure with a timeout, and limits such as ``ulimit -n`` apply to that build only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, List

import pytest

from ..conftest import REPO, read_index_lines


def build_cmd(*args: str) -> List[str]:
    return [sys.executable, "-m", "invindex", "build", *args]


def run_build(args: List[str], timeout: float = 60, preexec: Callable | None = None,
              no_root_reads: bool = False, cwd: Path | None = None,
              ) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = build_cmd(*args)
    if no_root_reads:  # root reads everything: without these capabilities it cannot
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] + cmd
    # its own session, so that a build that hangs is killed with all its workers
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, preexec_fn=preexec, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def doc_ids(index: Path) -> List[str]:
    """The doc ids of the document table (``!`` lines), sorted."""
    import json

    ids = []
    for line in read_index_lines(index):
        if line.startswith("!"):
            ids.extend(p[0] for p in json.loads(line.split("\t", 1)[1])["postings"])
    return sorted(ids)


@pytest.fixture(params=["fast", "pipe"])
def runner(request) -> str:
    return request.param
