"""``--overwrite`` with a runner that writes HDFS in place (issue 10): the job runs
into a hidden sibling and the old index is replaced by renames only after it
succeeded. Before, the old index was deleted before the job started, so a failed
rebuild lost it. mrjob's Hadoop runner drives ``_fake_hadoop`` (HDFS = a directory)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("mrjob")


@pytest.mark.slow
def test_failed_hdfs_rebuild_leaves_the_old_index(cli, fake_hdfs):
    root = fake_hdfs
    flags = ["-r", "hadoop", "-O", "hadoop_streaming_jar=/opt/streaming.jar"]
    assert cli("build", "hdfs:///corpus/", "-o", "hdfs:///idx", *flags).code == 0
    idx = root / "idx"
    before = {p.name: p.read_bytes() for p in idx.iterdir()}
    r = cli("build", "hdfs:///corpus/", "-o", "hdfs:///idx", "--overwrite", "--strict",
            *flags)  # the corpus has bad records: the job fails
    assert r.code == 1
    assert {p.name: p.read_bytes() for p in idx.iterdir()} == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []  # no staging
    r = cli("build", "hdfs:///corpus/", "-o", "hdfs:///idx", "--overwrite", "--stem", *flags)
    assert r.code == 0, r.err
    assert json.loads((idx / "_manifest.json").read_text())["analyzer"]["stem"]
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []
