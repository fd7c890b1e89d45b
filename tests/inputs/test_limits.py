"""Resource limits: open files (the merge's fan-in), memory (a huge record), and the
options that set them."""

from __future__ import annotations

import gzip
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO
from .conftest import build_cmd, doc_ids, run_build


def _low_fd_limit(n: int):
    def set_limit() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))
    return set_limit


def test_many_files_under_a_low_open_file_limit(tmp_path, runner):
    """As ``ulimit -n 40``: 100 one-line files make 100 runs per partition, more than a
    merge may open at once."""
    d = tmp_path / "in"
    d.mkdir()
    for i in range(100):
        (d / f"f{i:04d}.tsv").write_text(f"d{i:04d}\tshared word{i}\n")
    out = tmp_path / "idx"
    r = run_build([str(d), "-o", str(out), "-r", runner, "--jobs", "2"], timeout=300,
                  preexec=_low_fd_limit(40))
    assert r.returncode == 0, r.stderr
    assert doc_ids(out) == [f"d{i:04d}" for i in range(100)]


def test_merge_in_passes_gives_the_same_runs(tmp_path):
    """A fan-in of 2 over 9 runs (four passes) writes the part a single merge writes."""
    from invindex.runners.fast import reduce_partition

    runs = []
    for i in range(9):
        p = tmp_path / f"run-{i}"
        # the same term in every run, interleaved and repeated doc ids, and one term each
        p.write_text(f'a\t2\t["d{i}",1,[0]],["d{9 - i}",1,[{i}]]\n'
                     f'b{i}\t1\t["x",1,[{i}]]\n')
        runs.append(str(p))
    copies = []
    for i, r in enumerate(runs):
        c = tmp_path / f"copy-{i}"
        c.write_bytes(Path(r).read_bytes())
        copies.append(str(c))
    one = reduce_partition(copies, str(tmp_path / "one"))
    passes = reduce_partition(runs, str(tmp_path / "passes"), fan_in=2)
    assert one == passes
    assert (tmp_path / "one").read_bytes() == (tmp_path / "passes").read_bytes()


def _big_record(path: Path, mb: float, line: int = 3) -> None:
    """A file whose ``line``-th record is one document of about ``mb`` MB."""
    words = b" ".join(b"w%d" % (i % 5000) for i in range(int(mb * 2**20 / 5)))
    with open(path, "wb") as f:
        for i in range(1, line):
            f.write(b"d%d\tsmall one\n" % i)
        f.write(b"huge\t" + words + b"\n")
        f.write(b"last\tsmall too\n")


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_record_too_big_for_the_budget_is_refused_naming_it(tmp_path, runner, gz):
    """At --memory 256 with one job a record may be a few MB: a 20 MB one is refused in
    one line naming its file and line (it would take about 16 bytes per byte to
    invert: several times the budget)."""
    path = tmp_path / "big.tsv"
    _big_record(path, 20)
    if gz:
        path = path.rename(tmp_path / "big.tsv.gz")
        path.write_bytes(gzip.compress(path.read_bytes(), 1))
    out = tmp_path / "idx"
    r = run_build([str(path), "-o", str(out), "-r", runner, "--jobs", "1",
                   "--memory", "256"])
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"record at {path}:3 is longer than" in lines[0]
    assert "--memory" in lines[0]
    assert not out.exists()


_PEAK = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
         "sys.exit(rc)")


@pytest.mark.slow
@pytest.mark.parametrize("mb,memory,code", [(40, 512, 1), (20, 1024, 0)],
                         ids=["refused", "accepted"])
def test_a_big_record_stays_within_the_budget(tmp_path, runner, mb, memory, code):
    """A 40 MB record at --memory 512 (before: inverted at about 12 bytes per byte, far
    past the budget) is refused; a 20 MB one at --memory 1024 is indexed. Either way no
    process of the build's tree peaks above the budget (the kernel's accounting of the
    largest descendant, through a wrapper that waits for the build)."""
    path = tmp_path / "big.tsv"
    _big_record(path, mb)
    out = tmp_path / "idx"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-c", _PEAK, *build_cmd(
        str(path), "-o", str(out), "-r", runner, "--jobs", "1", "--memory", str(memory))],
        capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == code, r.stderr
    peak_kib = int(r.stderr.strip().splitlines()[-1])
    assert peak_kib < memory * 1024, (peak_kib, r.stderr)


@pytest.mark.parametrize("flags,message", [
    (["--parts", "0"], "--parts must be at least 1"),
    (["--parts", "-3"], "--parts must be at least 1"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--memory", "-100"], "--memory must be at least"),
    (["--memory", "0"], "--memory must be at least"),
])
def test_bad_sizes_are_usage_errors(tmp_path, flags, message):
    (tmp_path / "a.tsv").write_text("d1\thello\n")
    r = run_build([str(tmp_path / "a.tsv"), "-o", str(tmp_path / "idx"), *flags])
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "idx").exists()


def test_budget_below_what_the_engine_needs_is_warned(tmp_path):
    (tmp_path / "a.tsv").write_text("d1\thello\n")
    r = run_build([str(tmp_path / "a.tsv"), "-o", str(tmp_path / "idx"), "--jobs", "2",
                   "--memory", "200"])
    assert r.returncode == 0, r.stderr
    assert "--memory 200" in r.stderr and "below" in r.stderr


def test_streaming_mapper_max_record_bytes():
    """The mapper reads no record past --max-record-bytes: a record of exactly N bytes
    passes, N + 1 is one error line naming it; no limit by default (Hadoop's own)."""
    import io

    from invindex.core.stream_mapper import mapper_main

    def run(data: bytes, *flags: str):
        out, err = io.StringIO(), io.StringIO()
        code = mapper_main(["--source", "in.tsv", *flags], io.BufferedReader(
            io.BytesIO(data)), out, err)
        return code, err.getvalue()

    ok = b"d1\t" + b"x" * 17 + b"\n"  # 20 bytes before the newline
    assert run(ok + ok, "--max-record-bytes", "20")[0] == 0
    code, err = run(ok + b"d2\t" + b"y" * 18 + b"\n", "--max-record-bytes", "20")
    assert code == 1
    assert err.startswith("mapper.py: error: record at in.tsv:2 is longer than")
    assert run(ok + b"d2\t" + b"y" * 18 + b"\n")[0] == 0
