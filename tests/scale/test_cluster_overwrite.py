"""``--overwrite`` with a runner that writes HDFS in place (issue 10): the job runs
into a hidden sibling and the old index is replaced by renames only after it
succeeded. Before, the old index was deleted before the job started, so a failed
rebuild lost it. mrjob's Hadoop runner drives ``_fake_hadoop`` (HDFS = a directory)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("mrjob")


@pytest.mark.slow
def test_failed_hdfs_rebuild_leaves_the_old_index(cli, tmp_path, monkeypatch, corpus,
                                                  node_python):
    root = tmp_path / "hdfs"
    shutil.copytree(corpus, root / "corpus")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = Path(__file__).with_name("_fake_hadoop.py")
    (bin_dir / "hadoop").write_text(f'#!/bin/sh\nexec {sys.executable} {fake} "$@"\n')
    (bin_dir / "hadoop").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    monkeypatch.setenv("FAKE_HDFS_ROOT", str(root))
    monkeypatch.setenv("FAKE_HADOOP_PYTHON", node_python)
    monkeypatch.setenv("HOME", str(tmp_path))
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
