"""Progress bars: decimal units like the build summary (50.0 MB, not 47.7), and the pipe
runner's bar shows its sort and reduce phases instead of sitting at 100 %."""

from __future__ import annotations

import io

from invindex import progress

from ..conftest import SAMPLE


def test_the_bar_counts_in_decimal_megabytes():
    out = io.StringIO()
    bar = progress.Progress(50_000_000, "indexing", stream=out)
    bar(50_000_000)
    bar.close()
    text = out.getvalue()
    assert "50.0MB" in text and "47.7" not in text


def test_a_phase_is_shown_with_its_own_count():
    out = io.StringIO()
    with progress.Progress(1000, "indexing", stream=out) as bar:
        bar(1000)
        bar.phase("sort", 2_000_000)
        bar(1_000_000)
    text = out.getvalue()
    assert "indexing: sort" in text and "1.00MB/2.00MB" in text


def test_the_pipe_runner_shows_sort_and_reduce(cli, tmp_path, monkeypatch):
    phases = []
    real = progress.Progress.phase

    def spy(self, name, total=None):
        phases.append(name)
        real(self, name, total)

    monkeypatch.setattr(progress.Progress, "phase", spy)
    progress.set_enabled(True)
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "i"), "--runner", "pipe")
    assert r.code == 0, r.err
    assert phases == ["sort", "reduce"]
    assert "indexing (pipe): reduce" in r.err
