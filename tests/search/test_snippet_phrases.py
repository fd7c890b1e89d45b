"""``search --snippets`` on phrase queries: of a phrase clause only the tokens that form
the phrase are marked (a term clause's every occurrence, as before), and the window
prefers a phrase match. Indexes built by the default (fast) runner from tiny corpora."""

from __future__ import annotations

import json

import pytest

SCATTERED = "brown cow quick hare brown owl quick hare " * 6  # both words, never adjacent
FILLER = "and so on " * 30


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from invindex.cli import main

    root = tmp_path_factory.mktemp("phrases")
    docs = root / "d.tsv"
    docs.write_text(
        "a\tthe quick brown fox saw a brown dog and a quick cat\n"
        f"b\t{SCATTERED}{FILLER}at last a quick brown fox {FILLER}\n"
        "c\tLight of the world, the light and world, and the world of light\n",
        encoding="utf-8")
    out = root / "i"
    assert main([str(a) for a in ("build", docs, "-o", out, "--store-text", "-q",
                                  "--stopwords", "english")]) == 0
    return out


def _snippets(cli, index, query: str):
    r = cli("search", str(index), query, "--snippets", "--format", "json", "-k", "10")
    assert r.code == 0, r.err
    return {h["doc_id"]: h["snippet"] for h in json.loads(r.out)["hits"]}


def test_phrase_marks_only_its_occurrence(cli, index):
    got = _snippets(cli, index, '"quick brown"')
    assert got["a"] == "the **quick** **brown** fox saw a brown dog and a quick cat"


def test_term_clauses_still_mark_every_occurrence(cli, index):
    got = _snippets(cli, index, '"quick brown" cat dog')
    assert got["a"] == ("the **quick** **brown** fox saw a brown **dog** and a quick "
                        "**cat**")
    got = _snippets(cli, index, '"quick brown" brown')  # the word too: all its occurrences
    assert got["a"] == "the **quick** **brown** fox saw a **brown** dog and a quick cat"


def test_excluded_phrase_marks_nothing(cli, index):
    got = _snippets(cli, index, 'fox -"brown dog quick"')
    assert got["a"] == "the quick brown **fox** saw a brown dog and a quick cat"


def test_phrase_with_a_removed_stopword_keeps_the_gap(cli, index):
    """``light of the world``: stopwords keep their slots, so only "Light ... world"
    three tokens apart is the phrase, not "light and world" (two apart)."""
    got = _snippets(cli, index, '"light of the world"')
    assert got["c"] == ("**Light** of the **world**, the light and world, and the "
                        "world of light")


def test_window_prefers_the_phrase(cli, index):
    got = _snippets(cli, index, '"quick brown" hare')
    assert "a **quick** **brown** fox" in got["b"]
    assert got["b"].startswith("\u2026")
    got = _snippets(cli, index, '"quick brown"')
    assert "a **quick** **brown** fox" in got["b"] and got["b"].count("**") == 4


def test_highlight_of_a_planned_query():
    """What the searcher and the search site mark: not excluded clauses, at any depth."""
    from invindex.core.analysis import Analyzer
    from invindex.search.plan import plan
    from invindex.search.query import parse
    from invindex.search.snippets import Highlight, highlight_of, spans

    a = Analyzer.from_options("english")
    h = highlight_of(plan(parse('cat "Quick Brown" (dog OR -"the red fox") -owl'), a))
    assert h == Highlight(frozenset({"cat", "dog"}), frozenset({(("quick", 0), ("brown", 1))}))
    text = "brown quick brown, quick brown"
    assert [text[s:e] for s, e in spans(text, h, a)[2]] == ["quick", "brown", "quick", "brown"]
    assert len(spans(text, ["brown"], a)[2]) == 3  # plain terms: every occurrence
