"""The runner registry: one entry per runner, each defined in its own module.

Every runner writes the same index lines. The CLI's ``--runner`` choices and help, the
validation of runner settings and the pipeline's dispatch all come from ``RUNNERS``;
a new runner is one module with a ``RUNNER = Runner(...)`` entry plus one line here.
"""

from __future__ import annotations

from typing import Dict, List

from ..errors import UsageError
from . import dataproc, emr, fast, hadoop, inline, local, pipe, spark
from .base import BuildRequest, BuildResult, Runner

RUNNERS: Dict[str, Runner] = {r.name: r for r in (
    fast.RUNNER,
    pipe.RUNNER,
    inline.RUNNER,
    local.RUNNER,
    spark.RUNNER,
    emr.RUNNER,
    hadoop.RUNNER,
    dataproc.RUNNER,
)}
DEFAULT_RUNNER = "fast"


def names() -> List[str]:
    return list(RUNNERS)


def get_runner(name: str) -> Runner:
    """The entry for ``name``; a one-line ``UsageError`` naming the choices otherwise."""
    try:
        return RUNNERS[name]
    except KeyError:
        raise UsageError(f"unknown runner {name!r} (choose from {', '.join(RUNNERS)})") \
            from None


__all__ = ["BuildRequest", "BuildResult", "DEFAULT_RUNNER", "RUNNERS", "Runner",
           "get_runner", "names"]
