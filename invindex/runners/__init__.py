"""The runner registry: one entry per runner, each run by its own module.

Every runner writes the same index lines. The CLI's ``--runner`` choices and help, the
validation of runner settings and the pipeline's dispatch all come from ``RUNNERS``;
a new runner is one module with ``run(req)`` (and ``check(req)``) plus one entry here.
An entry names its module, imported when the runner is checked or run (``Runner``):
every ``invindex`` command parses with this registry, and importing every runner (the
fast engine's numpy and pyarrow, mrjob, the clouds' SDKs) would cost each of them that.
"""

from __future__ import annotations

from typing import Dict, List

from ..errors import UsageError
from .base import BuildRequest, BuildResult, Runner

_CLUSTER = frozenset({"parts", "runner_options"})
RUNNERS: Dict[str, Runner] = {r.name: r for r in (
    Runner("fast", "one process pool on this machine, no external tools (default)", "fast",
           takes=frozenset({"memory", "parts", "engine"})),
    Runner("pipe", "mapper.py | LC_ALL=C sort | reducer.py as real processes", "pipe",
           takes=frozenset({"memory"})),
    Runner("inline", "mrjob's inline runner (one process; for debugging the job)", "inline"),
    Runner("local", "mrjob's local runner (subprocesses, simulates Hadoop)", "local"),
    Runner("spark", "mrjob's Spark runner; needs pip install 'invindex[spark]' and Java 17; "
                    "--spark-master local[N] (default) or spark://HOST:PORT", "spark",
           takes=frozenset({"memory", "parts", "runner_options"})),
    Runner("emr", "Amazon EMR via mrjob; needs boto3 and AWS credentials; a new cluster per "
                  "run (terminated at the end, or on Ctrl-C/SIGTERM) or --cluster-id j-...; "
                  "s3:// inputs/output in place", "emr",
           takes=_CLUSTER, uris_in_place=True,
           implied_options={"instance_type": "master_instance_type"}),
    Runner("hadoop", "your Hadoop cluster via mrjob; needs the `hadoop` client (or see "
                     "`invindex hadoop-command`); hdfs:// or other Hadoop URIs in place",
           "hadoop", takes=_CLUSTER, uris_in_place=True),
    Runner("dataproc", "Google Dataproc: the streaming job submitted to --cluster-id NAME "
                       "(with --region, --project); needs google-cloud-dataproc and "
                       "credentials; gs:// inputs/output in place", "dataproc",
           takes=_CLUSTER, uris_in_place=True),
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
