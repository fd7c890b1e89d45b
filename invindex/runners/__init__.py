"""Runners: each turns inputs into index parts; all write the same lines.

``fast`` (default) in-process pool; ``pipe`` the streaming scripts as processes with
``LC_ALL=C sort``; ``inline``, ``local``, ``spark``, ``emr`` and ``hadoop`` through
mrjob; ``dataproc`` submits the same streaming job to a Dataproc cluster.
``emr``, ``hadoop`` and ``dataproc`` read and write cloud (or HDFS) URIs in place
(``cluster_build.build_on_cluster``); the others work on local files.
"""

from __future__ import annotations

from .base import BuildRequest, BuildResult

RUNNERS = {
    "fast": "one process pool on this machine, no external tools (default)",
    "pipe": "mapper.py | LC_ALL=C sort | reducer.py as real processes",
    "inline": "mrjob's inline runner (one process; for debugging the job)",
    "local": "mrjob's local runner (subprocesses, simulates Hadoop)",
    "spark": "mrjob's Spark runner; needs pip install 'invindex[spark]' and Java 17; "
             "--spark-master local[N] (default) or spark://HOST:PORT",
    "emr": "Amazon EMR via mrjob; needs boto3 and AWS credentials; a new cluster per run "
           "(terminated at the end, or on Ctrl-C/SIGTERM) or --cluster-id j-...; "
           "s3:// inputs/output in place",
    "hadoop": "your Hadoop cluster via mrjob; needs the `hadoop` client (or see "
              "`invindex hadoop-command`); hdfs:// or other Hadoop URIs in place",
    "dataproc": "Google Dataproc: the streaming job submitted to --cluster-id NAME "
                "(with --region, --project); needs google-cloud-dataproc and "
                "credentials; gs:// inputs/output in place",
}
DEFAULT_RUNNER = "fast"
# Runners that take cloud/HDFS URIs directly (no local staging of inputs or output).
URI_RUNNERS = ("emr", "hadoop", "dataproc")


def takes_uris(runner: str) -> bool:
    return runner in URI_RUNNERS


def run_build(runner: str, req: BuildRequest) -> BuildResult:
    if runner == "fast":
        from . import fast

        return fast.run(req)
    if runner == "pipe":
        from . import pipe

        return pipe.run(req)
    from . import mrjob_runner

    return mrjob_runner.run(req, runner)


__all__ = ["BuildRequest", "BuildResult", "RUNNERS", "DEFAULT_RUNNER", "URI_RUNNERS",
           "run_build", "takes_uris"]
