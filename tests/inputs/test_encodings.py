"""Compressed input is recognised by its content (magic bytes), not its name; a damaged
compressed file is one line naming it; a UTF-8 byte-order mark starting a file is not part
of the first doc_id. Here on the fast and pipe runners; tests/test_parity.py has these
inputs on every local runner."""

from __future__ import annotations

import bz2
import gzip

import pytest

from .conftest import doc_ids, run_build

TEXT = b"".join(b"d%03d\tword%d and more words\n" % (i, i % 7) for i in range(300))
IDS = sorted(f"d{i:03d}" for i in range(300))


@pytest.mark.parametrize("name,content", [
    ("gzip.tsv", gzip.compress(TEXT)),
    ("bzip2.tsv", bz2.compress(TEXT)),
    ("plain.tsv.gz", TEXT),
    ("bzip2.gz", bz2.compress(TEXT)),
], ids=["gzip-named-tsv", "bzip2-named-tsv", "plain-named-gz", "bzip2-named-gz"])
def test_compression_is_detected_by_content(tmp_path, runner, name, content):
    (tmp_path / name).write_bytes(content)
    out = tmp_path / "idx"
    r = run_build([str(tmp_path / name), "-o", str(out), "-r", runner])
    assert r.returncode == 0, r.stderr
    assert "bad record" not in r.stderr
    assert doc_ids(out) == IDS


@pytest.mark.parametrize("name,content", [
    ("cut.tsv.gz", gzip.compress(TEXT)[:-20]),
    ("cut.tsv.bz2", bz2.compress(TEXT)[:-20]),
    ("garbled.tsv.gz", gzip.compress(TEXT)[:30] + b"\x00" * 40 + gzip.compress(TEXT)[70:]),
    ("garbled.tsv.bz2", bz2.compress(TEXT)[:30] + b"\x00" * 40 + bz2.compress(TEXT)[70:]),
])
@pytest.mark.parametrize("engine", ["fast", "pipe", "inline"])
def test_damaged_compressed_file_is_one_line_naming_it(tmp_path, engine, name, content):
    """inline: mrjob's reader stops quietly at a truncated gzip's end (before: exit 0
    with the records read so far); the mrjob runners check compressed inputs first."""
    runner = engine
    (tmp_path / name).write_bytes(content)
    out = tmp_path / "idx"
    r = run_build([str(tmp_path / name), "-o", str(out), "-r", runner])
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("invindex: error: "), r.stderr
    assert name in lines[0] and "--verbose" not in lines[0]
    assert not out.exists()


def test_byte_order_mark_is_stripped(tmp_path, runner):
    bom = b"\xef\xbb\xbf"
    (tmp_path / "a.tsv").write_bytes(bom + b"d1\tfirst doc\nd2\tsecond\n")
    (tmp_path / "b.tsv.gz").write_bytes(gzip.compress(bom + b"d3\tthird\n"))
    # only at the start of a file: elsewhere it is part of the id (a good record)
    (tmp_path / "c.tsv").write_bytes(b"d4\tfourth\n" + bom + b"d5\tfifth\n")
    out = tmp_path / "idx"
    r = run_build([str(tmp_path), "-o", str(out), "-r", runner])
    assert r.returncode == 0, r.stderr
    assert doc_ids(out) == ["d1", "d2", "d3", "d4", "\ufeffd5"]
