"""Builds that cannot trample each other, and stop cleanly when told to.

Each case was first reproduced on the code before the one build pipeline (the issue's
list): two builds without --overwrite both "succeeded" into one output; a failed
--overwrite rebuild; an output inside an input directory read back as input; --overwrite
onto a symlink failing after it had replaced the link; SIGTERM leaving workers and
temporaries behind and exiting 143 silently; a SIGKILLed build's temporaries left
forever. The processes here are real ``invindex`` processes and real signals.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from invindex.interrupt import descendants
from invindex.temps import pid_alive
from tests.conftest import REPO, SAMPLE, read_index_lines


def _env(tmp_path: Path) -> dict:
    tmp = tmp_path / "tmpdir"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}


def _start(tmp_path: Path, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "invindex", "build", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env(tmp_path), **kw)


def _big_corpus(path: Path, copies: int) -> Path:
    """The sample repeated with distinct doc ids (a build that takes a few seconds)."""
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    with open(path, "wb") as f:
        for i in range(copies):
            f.writelines(b"%d-" % i + line for line in lines)
    return path


def _wait_for_children(proc: subprocess.Popen, n: int = 1, timeout: float = 60) -> List[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        kids = sorted(descendants(proc.pid))
        if len(kids) >= n:
            return kids
        time.sleep(0.05)
    raise AssertionError("the build started no worker in time")


def _leftovers(tmp_path: Path, out_parent: Path) -> List[str]:
    hidden = [p.name for p in out_parent.iterdir() if p.name.startswith(".")]
    work = [p.name for p in (tmp_path / "tmpdir").iterdir()]
    return hidden + work


def test_racing_builds_without_overwrite_exactly_one_wins(tmp_path):
    corpus = _big_corpus(tmp_path / "big.tsv", 100)
    out = tmp_path / "out" / "idx"
    procs = [_start(tmp_path, str(p), "-o", str(out), "-j", "1")
             for p in (corpus, SAMPLE)]
    results = [(p.wait(timeout=300), p.stderr.read().decode()) for p in procs]  # type: ignore
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    [loser] = [err for code, err in results if code == 1]
    assert "exists" in loser and len(loser.strip().splitlines()) == 1
    assert (out / "_SUCCESS").exists()
    assert _leftovers(tmp_path, out.parent) == []


def _strictly_bad(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tfine\nno tab here\n")
    return bad


def test_failed_overwrite_leaves_the_old_index_readable(cli, tmp_path):
    out = tmp_path / "idx"
    assert cli("build", str(SAMPLE), "-o", str(out)).code == 0
    before = read_index_lines(out)
    r = cli("build", str(_strictly_bad(tmp_path)), "-o", str(out), "--overwrite", "--strict")
    assert r.code == 1 and "no tab" in r.err
    assert read_index_lines(out) == before
    assert cli("lookup", str(out), "light").code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tsv", "idx"]


def test_output_inside_an_input_directory_is_not_read_back(cli, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "docs.tsv").write_bytes(SAMPLE.read_bytes())
    for _ in range(2):  # the second build replaces corpus/idx and must not index it
        r = cli("build", str(corpus), "-o", str(corpus / "idx"), "--overwrite")
        assert r.code == 0, r.err
        m = json.loads((corpus / "idx" / "_manifest.json").read_text())
        assert m["counts"]["documents"] == 429 and m["counts"]["bad_records"] == 0
        assert m["inputs"] == [str(corpus / "docs.tsv")]


def test_overwrite_onto_a_symlinked_output(cli, tmp_path):
    real = tmp_path / "disk" / "idx-v1"
    assert cli("build", str(SAMPLE), "-o", str(real)).code == 0
    link = tmp_path / "current"
    link.symlink_to(real, target_is_directory=True)
    r = cli("build", str(SAMPLE), "-o", str(link), "--overwrite", "--stem")
    assert r.code == 0, r.err
    assert link.is_symlink() and link.resolve() == real  # the link kept, its index replaced
    assert json.loads((real / "_manifest.json").read_text())["analyzer"]["stem"]
    assert cli("lookup", str(link), "creating").out.startswith("creat\t")
    assert sorted(p.name for p in real.parent.iterdir()) == ["idx-v1"]


def test_overwrite_refuses_a_directory_that_is_not_an_index(cli, tmp_path):
    """Issue 9 item 4, on a local directory: --overwrite replaces an index, nothing else."""
    out = tmp_path / "idx"
    assert cli("build", str(SAMPLE), "-o", str(out)).code == 0
    (out / "notes.txt").write_text("mine")
    r = cli("build", str(SAMPLE), "-o", str(out), "--overwrite")
    assert r.code == 1 and "'notes.txt'" in r.err and "not part of an index" in r.err
    assert (out / "notes.txt").read_text() == "mine" and (out / "_SUCCESS").exists()
    home = tmp_path / "home"
    (home / "photos").mkdir(parents=True)
    (home / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    r = cli("build", str(SAMPLE), "-o", str(home), "--overwrite")
    assert r.code == 1 and "photos/cat.jpg" in r.err
    assert (home / "photos" / "cat.jpg").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_stops_children_removes_temporaries_one_line(tmp_path, sig):
    corpus = _big_corpus(tmp_path / "big.tsv", 300)
    out = tmp_path / "out" / "idx"
    proc = _start(tmp_path, str(corpus), "-o", str(out), "-j", "2", "--engine", "python")
    kids = _wait_for_children(proc, 2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err.decode()
    assert err.decode().strip().splitlines() == ["invindex: interrupted"]
    deadline = time.monotonic() + 10
    while any(pid_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if pid_alive(k)]  # no orphaned pool worker
    assert not out.exists() and _leftovers(tmp_path, out.parent) == []


def test_sigterm_stops_the_pipe_runners_sort_and_reducer(tmp_path):
    corpus = _big_corpus(tmp_path / "big.tsv", 300)
    out = tmp_path / "idx"
    proc = _start(tmp_path, str(corpus), "-o", str(out), "-r", "pipe", "-j", "1")
    kids = _wait_for_children(proc, 1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    kids = set(kids) | descendants(proc.pid)
    deadline = time.monotonic() + 10
    while any(pid_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if pid_alive(k)]
    assert not out.exists() and _leftovers(tmp_path, tmp_path) == []


def test_next_build_sweeps_a_killed_builds_temporaries(tmp_path):
    corpus = _big_corpus(tmp_path / "big.tsv", 300)
    out = tmp_path / "out" / "idx"
    proc = _start(tmp_path, str(corpus), "-o", str(out), "-j", "2", "--engine", "python")
    kids = _wait_for_children(proc, 2)
    proc.kill()
    proc.wait()
    for k in kids:  # workers die with their parent; make sure
        with contextlib.suppress(OSError):
            os.kill(k, signal.SIGKILL)
    left = _leftovers(tmp_path, out.parent)
    assert any(n.startswith(".idx.tmp-") for n in left) and any(
        n.startswith("invindex-work-") for n in left)
    again = _start(tmp_path, str(SAMPLE), "-o", str(out))
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert "removed" in err.decode() and f"-{proc.pid}-" in err.decode()
    assert _leftovers(tmp_path, out.parent) == []
    assert (out / "_SUCCESS").exists()


def test_ctrl_c_on_the_local_runner_is_one_line(tmp_path):
    """Ctrl-C reaches the whole process group: mrjob's pool workers printed
    ``ForkPoolWorker`` tracebacks (mrjob's own config warning may precede the line)."""
    pytest.importorskip("mrjob")
    corpus = _big_corpus(tmp_path / "big.tsv", 100)
    out = tmp_path / "idx"
    proc = _start(tmp_path, str(corpus), "-o", str(out), "-r", "local", "-j", "2",
                  start_new_session=True)
    _wait_for_children(proc, 2)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text and "ForkPoolWorker" not in text, text
    assert text.strip().splitlines()[-1] == "invindex: interrupted"
    assert not out.exists() and _leftovers(tmp_path, tmp_path) == []


def test_an_index_swapped_out_by_a_killed_build_is_restored(cli, tmp_path):
    """Killed between the two renames of a replacement: the old index is put back
    rather than swept away."""
    from invindex.temps import owner_tag

    idx = tmp_path / "idx"
    assert cli("build", str(SAMPLE), "-o", str(idx)).code == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    host = owner_tag().rsplit("-", 1)[0]
    idx.rename(tmp_path / f".idx.old-{host}-{dead}")
    r = cli("build", str(SAMPLE), "-o", str(idx))
    assert r.code == 1 and "exists" in r.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]
    assert cli("lookup", str(idx), "light").code == 0


def test_a_failed_scratch_directory_releases_the_outputs_lock(tmp_path, monkeypatch):
    """The scratch directory is made after the output is claimed: if that fails (a full
    temporary directory), the claim's lock goes too, not left to block the output (for a
    cloud output, for a whole lease). Review finding."""
    import invindex.build
    from invindex.core.analysis import Analyzer

    def full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(invindex.build, "work_dir", full)
    out = tmp_path / "idx"
    with pytest.raises(OSError):
        invindex.build.build_index([str(SAMPLE)], str(out), Analyzer())
    assert sorted(p.name for p in tmp_path.iterdir()) == []
