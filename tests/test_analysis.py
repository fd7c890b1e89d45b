"""The analyzer: the contract's tokenizer and its options, and the manifest round trip."""

from __future__ import annotations

import pytest

from invindex.core.analysis import ENGLISH_STOPWORDS, Analyzer


def test_default_tokenizer_is_lowercased_alnum_runs():
    a = Analyzer()
    assert a.term_positions("Hello, hello_World! 42x") == {
        "hello": [0, 1], "world": [2], "42x": [3]}


def test_non_ascii_letters_and_digits():
    a = Analyzer()
    assert a.terms("Crème BRÛLÉE ½ 東京 ΣΊΣΥΦΟΣ") == ["crème", "brûlée", "½", "東京", "σίσυφος"]


def test_options_drop_tokens_without_renumbering():
    a = Analyzer.from_options(stopwords="english", min_token_length=2, max_token_length=5)
    # positions are ordinals in the original stream: "the"(0) "a"(1) dropped
    assert a.term_positions("The a quick brownish fox") == {"quick": [2], "fox": [4]}


def test_stem_uses_snowball():
    a = Analyzer.from_options(stem=True)
    assert a.terms("Running runs easily") == ["run", "run", "easili"]


def test_stopword_file(tmp_path):
    f = tmp_path / "stop.txt"
    f.write_text("# comment\nFoo\nbar  # trailing\n\n", "utf-8")
    a = Analyzer.from_options(stopwords=str(f))
    assert a.terms("foo bar baz") == ["baz"]
    # the manifest carries the words themselves, so readers need not have the file
    b = Analyzer.from_manifest(a.to_manifest())
    assert b.stopwords == {"foo", "bar"} and b.terms("foo bar baz") == ["baz"]


def test_manifest_round_trip():
    a = Analyzer.from_options(stopwords="english", stem=True, min_token_length=2,
                              max_token_length=30, positions=False)
    b = Analyzer.from_manifest(a.to_manifest())
    assert b == a and b.stopwords == ENGLISH_STOPWORDS


def test_bad_length_limits():
    with pytest.raises(ValueError):
        Analyzer(min_token_length=0)
    with pytest.raises(ValueError):
        Analyzer(min_token_length=5, max_token_length=2)
