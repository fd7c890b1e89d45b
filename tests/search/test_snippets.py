"""Snippets from the stored texts (``build --store-text``, ``search --snippets``)."""

from __future__ import annotations

import json

from invindex.core.analysis import Analyzer
from invindex.search.snippets import snippet, spans


def test_best_window_has_most_distinct_terms():
    text = ("alpha " * 40) + "filler " * 30 + "alpha beta gamma here " + "filler " * 30
    a = Analyzer()
    s = snippet(text, ["alpha", "beta", "gamma"], a, width=60)
    assert "**alpha** **beta** **gamma**" in s
    assert s.startswith("\u2026") and s.endswith("\u2026")
    start, end, marks = spans(text, ["beta"], a, width=60)
    assert [text[s:e] for s, e in marks] == ["beta"] and start <= marks[0][0] < end


def test_analyzed_matches_and_no_match():
    a = Analyzer.from_options("english", stem=True)
    assert snippet("The Runners were RUNNING.", ["run"], a) == (
        "The Runners were **RUNNING**.")
    assert snippet("short text", ["zebra"], a) == "short text"
    assert snippet("x " * 200, ["zebra"], a, width=20).endswith("\u2026")


def test_cli_snippets(cli, tmp_path):
    docs = tmp_path / "d.tsv"
    docs.write_text("a\tThe quick brown fox\nb\tA lazy dog sleeps\nb\tand the fox too\n")
    assert cli("build", str(docs), "-o", str(tmp_path / "i"), "--store-text").code == 0
    r = cli("search", str(tmp_path / "i"), "fox", "--snippets", "--format", "json")
    hits = json.loads(r.out)["hits"]
    got = {h["doc_id"]: h["snippet"] for h in hits}
    assert got["a"] == "The quick brown **fox**"
    # a doc_id's records: their texts in a fixed order (by their stored bytes), not input order
    assert sorted(got["b"].split(" A ")) == ["and the **fox** too", "lazy dog sleeps"]
    assert cli("build", str(docs), "-o", str(tmp_path / "j")).code == 0
    r = cli("search", str(tmp_path / "j"), "fox", "--snippets")
    assert r.code == 2 and "--store-text" in r.err
