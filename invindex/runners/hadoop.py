"""``--runner hadoop``: your Hadoop cluster through mrjob, hdfs:// (or other Hadoop)
URIs in place; needs the ``hadoop`` client (or see ``invindex hadoop-command``)."""

from __future__ import annotations

from . import cluster
from .base import BuildRequest, BuildResult
from .mrjob_runner import check_cluster_options, run_cluster


def check(req: BuildRequest) -> None:
    check_cluster_options(req, "hadoop")
    cluster.check_hadoop(req.runner_options)


def run(req: BuildRequest) -> BuildResult:
    return run_cluster(req, "hadoop")
