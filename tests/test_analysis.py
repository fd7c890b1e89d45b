"""The analyzer: the contract's tokenizer and its options, and the manifest round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.core import analysis
from invindex.core.analysis import ENGLISH_STOPWORDS, TOKEN_RE, Analyzer, token_lists


def test_default_tokenizer_is_lowercased_alnum_runs():
    a = Analyzer()
    assert a.term_positions("Hello, hello_World! 42x") == {
        "hello": [0, 1], "world": [2], "42x": [3]}


def test_non_ascii_letters_and_digits():
    a = Analyzer()
    assert a.terms("Crème BRÛLÉE ½ 東京 ΣΊΣΥΦΟΣ") == ["crème", "brûlée", "½", "東京", "σίσυφος"]


_ascii_or_not = st.text(alphabet=st.one_of(st.characters(max_codepoint=127),
                                            st.characters()), max_size=40)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_ascii_or_not, st.text(st.characters(max_codepoint=127))),
                max_size=6), st.integers(0, 200))
def test_token_lists_match_the_regex(texts, join_chars):
    """The streaming mapper's block tokenizer (``translate`` + ``split`` for ASCII, a
    block at once or text by text) gives the contract's tokens: the regex's over the
    lowered text, for every ASCII character, newlines within a text, and any mix."""
    expected = [TOKEN_RE.findall(t.lower()) for t in texts]
    assert list(token_lists(texts)) == expected
    saved, analysis._JOIN_CHARS = analysis._JOIN_CHARS, join_chars
    try:
        assert list(token_lists(texts)) == expected
    finally:
        analysis._JOIN_CHARS = saved


_ANALYZERS = [Analyzer(), Analyzer.from_options(stopwords="english", min_token_length=2,
                                              max_token_length=5),
              Analyzer.from_options(stem=True, stopwords="english")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["the", "a", "cat", "cats", "running", "runs", "x",
                                 "brownish", "42"]), max_size=60),
       st.sampled_from(range(len(_ANALYZERS))))
def test_streaming_grouping_matches_term_positions(toks, which):
    """The streaming mapper's grouping (``grouping_function``: a term seen once maps to
    its position as text, a repeated term to the list of them) holds the same terms,
    positions and order as ``term_position_texts``, for every option that drops or
    maps tokens; a mapper line's tf is then the number of positions."""
    a = _ANALYZERS[which]
    grouped = a.grouping_function()(list(toks))
    expected = a.term_position_texts(" ".join(toks))
    assert list(grouped) == list(expected)
    assert {t: [ps] if isinstance(ps, str) else ps for t, ps in grouped.items()} == expected
    assert all(len(ps) > 1 for ps in grouped.values() if isinstance(ps, list))


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
