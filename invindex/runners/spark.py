"""``--runner spark``: mrjob's Spark runner on ``local[N]`` or a ``spark://`` master.

Spark's parts are cut by its own partitioner; ``repartition`` re-cuts them as Hadoop's
KeyFieldBasedPartitioner would, so the index equals every other runner's.
"""

from __future__ import annotations

from typing import List

from ..core import indexfmt
from . import cluster
from .base import BuildRequest, BuildResult
from .mrjob_runner import check_cluster_options, job_args, run_job
from .repartition import repartition

MAX_NOTES = 5  # as many as the other runners report


def check(req: BuildRequest) -> None:
    check_cluster_options(req, "spark")


def run(req: BuildRequest) -> BuildResult:
    cluster.check_spark()
    out_dir = req.workdir / "output"
    # Spark's counters are the harness's accumulators, written whenever the job succeeds
    # (never read from logs): none at all means no task ran, the input held nothing.
    totals = run_job(req, "spark", job_args(req, "spark", out_dir)) or {"tokens": 0}
    parts = sorted(p for p in out_dir.iterdir() if p.name.startswith("part-"))
    if req.on_progress:
        req.on_progress(sum(p.stat().st_size for p in req.inputs))
    notes: List[str] = []  # the job's bad-record notes ride in its output on Spark
    n = repartition(parts, req.staging, int(req.parts or len(parts)), req.memory_mb, notes)
    return BuildResult(totals, {"scheme": indexfmt.HADOOP_KEYFIELD, "num_parts": n},
                       notes=sorted(notes)[:MAX_NOTES])
