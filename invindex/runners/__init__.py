"""Runners: each turns local inputs into index parts; all write the same lines.

``fast`` (default) in-process pool; ``pipe`` the streaming scripts as processes with
``LC_ALL=C sort``; ``inline`` and ``local`` through mrjob.
"""

from __future__ import annotations

from .base import BuildRequest, BuildResult

RUNNERS = {
    "fast": "one process pool on this machine, no external tools (default)",
    "pipe": "mapper.py | LC_ALL=C sort | reducer.py as real processes",
    "inline": "mrjob's inline runner (one process; for debugging the job)",
    "local": "mrjob's local runner (subprocesses, simulates Hadoop)",
}
DEFAULT_RUNNER = "fast"


def run_build(runner: str, req: BuildRequest) -> BuildResult:
    if runner == "fast":
        from . import fast

        return fast.run(req)
    if runner == "pipe":
        from . import pipe

        return pipe.run(req)
    from . import mrjob_runner

    return mrjob_runner.run(req, runner)


__all__ = ["BuildRequest", "BuildResult", "RUNNERS", "DEFAULT_RUNNER", "run_build"]
