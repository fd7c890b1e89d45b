"""``invindex stats``: counts from the document table and term lines, top terms, plots."""

from __future__ import annotations

import json

from .conftest import write_index

RECORDS = [("d1", "b a a"), ("d2", "a c"), ("d3", ""), ("d1", "c")]


def test_stats_counts_and_top_terms(cli, tmp_path):
    index = str(write_index(tmp_path / "i", RECORDS))
    r = cli("stats", index, "--format", "json", "--top", "2")
    assert r.code == 0, r.err
    s = json.loads(r.out)
    assert (s["documents"], s["tokens"], s["vocabulary"], s["postings"]) == (3, 6, 3, 5)
    assert s["top_terms_by_df"] == [["a", 2], ["c", 2]]  # ties: byte order
    assert s["top_terms_by_cf"] == [["a", 3], ["c", 2]]
    assert s["document_length"]["min"] == 0 and s["document_length"]["max"] == 4
    assert dict(s["document_length_histogram"]) == {"0": 1, "2-3": 1, "4-7": 1}
    r = cli("stats", index)
    assert "documents   3" in r.out and "top terms by cf: a 3, c 2, b 1" in r.out


def test_stats_png(cli, tmp_path):
    index = str(write_index(tmp_path / "i", RECORDS))
    r = cli("stats", index, "--png", str(tmp_path / "s.png"))
    assert r.code == 0, r.err
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
