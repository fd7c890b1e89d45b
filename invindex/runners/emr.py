"""``--runner emr``: Amazon EMR through mrjob, s3:// inputs and output in place.

A new cluster per run (terminated at the end, or on Ctrl-C/SIGTERM) or a given
``--cluster-id`` (left running; this run's pending steps are cancelled on interrupt).
"""

from __future__ import annotations

from . import cluster
from .base import BuildRequest, BuildResult, Runner
from .mrjob_runner import check_cluster_options, run_cluster


def check(req: BuildRequest) -> None:
    check_cluster_options(req, "emr")
    cluster.check_aws()


def run(req: BuildRequest) -> BuildResult:
    return run_cluster(req, "emr")


RUNNER = Runner(
    "emr", "Amazon EMR via mrjob; needs boto3 and AWS credentials; a new cluster per run "
           "(terminated at the end, or on Ctrl-C/SIGTERM) or --cluster-id j-...; "
           "s3:// inputs/output in place",
    run, check, takes=frozenset({"parts", "runner_options"}), uris_in_place=True,
    implied_options={"instance_type": "master_instance_type"})
