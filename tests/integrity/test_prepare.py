"""``invindex prepare``: the cases a new user met (each failed before the fix)."""

from __future__ import annotations

import gzip

import pytest


def test_a_tsv_file_is_one_message_and_exit_2(cli, tmp_path):
    tsv = tmp_path / "docs.tsv"
    tsv.write_text("".join(f"d{i}\tsome text {i}\n" for i in range(429)))
    r = cli("prepare", str(tsv))
    assert r.code == 2, r
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert "not JSON lines" in r.err and "invindex build" in r.err
    assert r.out == ""


@pytest.fixture
def texts(tmp_path):
    d = tmp_path / "texts"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("Alpha\ttext\n")
    (d / "sub" / "b.txt.gz").write_bytes(gzip.compress(b"gzipped words"))
    (d / ".hidden.txt").write_text("hidden")
    (d / "_SUCCESS").write_text("")
    (d / "_logs").mkdir()
    (d / "_logs" / "x.txt").write_text("log")
    (d / "prog").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00binary")
    (d / "latin.txt").write_bytes("café crème".encode("latin-1"))
    return d


def test_a_directory_follows_builds_rules(cli, texts, caplog):
    r = cli("prepare", str(texts))
    assert r.code == 0, r.err
    records = dict(line.split("\t", 1) for line in r.out.splitlines())
    assert records == {"a.txt": "Alpha text ", "sub/b.txt.gz": "gzipped words"}
    assert "\x00" not in r.out and "hidden" not in r.out and "log" not in r.out
    assert "prog: binary" in caplog.text
    assert "latin.txt: not utf-8 text" in caplog.text
    assert "prepared 2 records" in r.err and "1 binary" in r.err and "1 undecodable" in r.err


def test_encoding_reads_latin_1(cli, texts):
    r = cli("prepare", str(texts), "--encoding", "latin-1")
    assert r.code == 0, r.err
    records = dict(line.split("\t", 1) for line in r.out.splitlines())
    assert records["latin.txt"] == "café crème"
    assert "\ufffd" not in r.out


def test_an_unknown_encoding_is_a_usage_error(cli, texts):
    r = cli("prepare", str(texts), "--encoding", "klingon")
    assert r.code == 2 and "klingon" in r.err
