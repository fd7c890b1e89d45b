"""Resource limits: open files (the merge's fan-in), memory (a huge record), and the
options that set them."""

from __future__ import annotations

import resource
from pathlib import Path

from .conftest import doc_ids, run_build


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
