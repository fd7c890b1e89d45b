"""``--runner emr``: Amazon EMR through mrjob, s3:// inputs and output in place.

A new cluster per run (terminated at the end, or on Ctrl-C/SIGTERM) or a given
``--cluster-id`` (left running; this run's pending steps are cancelled on interrupt).
"""

from __future__ import annotations

from . import cluster
from .base import BuildRequest, BuildResult
from .mrjob_runner import check_cluster_options, run_cluster


def check(req: BuildRequest) -> None:
    check_cluster_options(req, "emr")
    cluster.check_aws()


def run(req: BuildRequest) -> BuildResult:
    return run_cluster(req, "emr")
