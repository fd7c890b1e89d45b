"""Which files a build reads: one file once under any spelling, special files, unreadable
directories and symlink loops, each on the fast and pipe runners (and mrjob's local ones,
which get the same expanded list)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from ..conftest import read_index_lines
from .conftest import doc_ids, run_build


def _postings(index: Path, term: str):
    for line in read_index_lines(index):
        t, _, payload = line.partition("\t")
        if t == term:
            return json.loads(payload)["postings"]
    return None


def test_one_file_under_several_spellings_is_read_once(tmp_path, runner):
    d = tmp_path / "in"
    d.mkdir()
    (d / "x.tsv").write_text("d1\thello world\n")
    out = tmp_path / "idx"
    r = run_build(["x.tsv", "../in/x.tsv", str(d / "x.tsv"), "-o", str(out), "-r", runner],
                  cwd=d)
    assert r.returncode == 0, r.stderr
    assert _postings(out, "hello") == [["d1", 1, [0]]]
    assert "read once" in r.stderr and "../in/x.tsv" in r.stderr
    manifest = json.loads((out / "_manifest.json").read_text())
    assert len(manifest["inputs"]) == 1


def test_a_directory_and_a_file_in_it_read_it_once(tmp_path, runner):
    d = tmp_path / "in"
    d.mkdir()
    (d / "x.tsv").write_text("d1\thello\n")
    os.symlink(d / "x.tsv", tmp_path / "link.tsv")
    out = tmp_path / "idx"
    r = run_build([str(d), str(tmp_path / "link.tsv"), "-o", str(out), "-r", runner])
    assert r.returncode == 0, r.stderr
    assert _postings(out, "hello") == [["d1", 1, [0]]]
    assert "read once" in r.stderr


def test_fifo_inside_a_directory_is_skipped_with_a_warning(tmp_path, runner):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.tsv").write_text("d1\thello\n")
    os.mkfifo(d / "pipe.tsv")
    out = tmp_path / "idx"
    r = run_build([str(d), "-o", str(out), "-r", runner], timeout=20)
    assert r.returncode == 0, r.stderr
    assert "pipe.tsv" in r.stderr and "not a regular file" in r.stderr
    assert doc_ids(out) == ["d1"]


def test_fifo_named_explicitly_is_refused_truthfully(tmp_path, runner):
    os.mkfifo(tmp_path / "pipe.tsv")
    r = run_build([str(tmp_path / "pipe.tsv"), "-o", str(tmp_path / "idx"), "-r", runner])
    assert r.returncode == 2
    assert "does not exist" not in r.stderr
    assert "is a FIFO, not a regular file" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                    reason="root reads every directory unless setpriv drops that")
def test_unreadable_subdirectory_is_an_error(runner):
    top = Path(tempfile.mkdtemp(prefix="invindex-unreadable-"))
    try:
        d = top / "in"
        (d / "secret").mkdir(parents=True)
        (d / "a.tsv").write_text("d1\thello\n")
        (d / "secret" / "b.tsv").write_text("d2\thidden\n")
        (d / "secret").chmod(0)
        r = run_build([str(d), "-o", str(top / "idx"), "-r", runner],
                      no_root_reads=os.geteuid() == 0)
        assert r.returncode != 0, r.stderr
        assert "secret" in r.stderr and "Permission denied" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (top / "idx").exists()
    finally:
        (top / "in" / "secret").chmod(stat.S_IRWXU)
        shutil.rmtree(top)


@pytest.mark.parametrize("where", ["explicit", "in_directory"])
def test_self_looping_symlink_is_one_clear_line(tmp_path, runner, where):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.tsv").write_text("d1\thello\n")
    os.symlink("loop.tsv", d / "loop.tsv")
    arg = str(d / "loop.tsv") if where == "explicit" else str(d)
    r = run_build([arg, "-o", str(tmp_path / "idx"), "-r", runner])
    assert r.returncode == 2, r.stderr
    assert "loop.tsv" in r.stderr and "symbolic links" in r.stderr
    assert "--verbose" not in r.stderr and "OSError" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
