"""mrjob's local runner leaves ``/tmp/wrapper.lock.<job key>`` (its setup-wrapper lock,
which mrjob never deletes) behind on every run: a build removes its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import SAMPLE

mrjob_runner = pytest.importorskip("mrjob.runner")


def test_the_local_runner_leaves_no_lock_file(cli, tmp_path, monkeypatch):
    # this run's job key (other processes on the machine may run mrjob meanwhile)
    keys = []
    real = mrjob_runner.MRJobRunner._make_unique_job_key

    def spy(self, *a, **k):
        keys.append(real(self, *a, **k))
        return keys[-1]

    monkeypatch.setattr(mrjob_runner.MRJobRunner, "_make_unique_job_key", spy)
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "i"), "--runner", "local", "-q")
    assert r.code == 0, r.err
    assert keys
    assert [k for k in keys if Path(f"/tmp/wrapper.lock.{k}").exists()] == []
