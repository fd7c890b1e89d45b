"""``--runner inline``: mrjob's inline runner (one process; for debugging the job)."""

from __future__ import annotations

from .base import BuildRequest, BuildResult
from .mrjob_runner import run_local


def run(req: BuildRequest) -> BuildResult:
    return run_local(req, "inline")
