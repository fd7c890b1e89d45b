"""``Searcher`` against the brute-force reference (tests/search/brute.py) on
hypothesis-generated corpora and queries: words (some analyzing to several tokens or
to nothing), ``+``/``-``/``NOT``, phrases with and without stopword gaps, AND/OR and
parentheses; every matching document, its rank and its score; on the JSON parts read
term by term and on the compact copy (``search --compact``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invindex.search.compact import CompactIndex, build
from invindex.search.searcher import Searcher
from invindex.search.source import IndexDirSource

from . import brute
from .conftest import write_index

VOCAB = ["alpha", "beta", "gamma", "delta", "eps", "the", "of", "x"]
STOP = frozenset({"the", "of"})

words = st.sampled_from(VOCAB + ["Alpha", "beta-gamma", "the", "of-the", "zzz", "..."])
doc_text = st.lists(st.sampled_from(VOCAB + ["Beta,", "gamma."]), min_size=0, max_size=12
                    ).map(" ".join)
doc_ids = st.sampled_from(["d1", "d2", "d3", "d4", "d5", "d6", "d\u00e9", "d 7", "D8"])
corpora = st.lists(st.tuples(doc_ids, doc_text), min_size=1, max_size=9)


def _items(children):
    item = st.builds(
        brute.Item, st.sampled_from([None, "AND", "OR", None]),
        st.sampled_from(["", "", "+", "-", "NOT"]),
        st.sampled_from(["word", "word", "phrase", "group"]), st.none())
    return st.lists(st.tuples(item, words, st.lists(words, min_size=1, max_size=3),
                              children), min_size=1, max_size=4).map(_fix)


def _fix(raw):
    out = []
    for i, (it, word, phrase, group) in enumerate(raw):
        conj = None if i == 0 else it.conj
        if it.kind == "group" and group:
            out.append(brute.Item(conj, it.mod, "group", tuple(group)))
        elif it.kind == "phrase":
            out.append(brute.Item(conj, it.mod, "phrase", " ".join(phrase)))
        else:
            out.append(brute.Item(conj, it.mod, "word", word))
    return out


queries = st.recursive(st.just([]), _items, max_leaves=8).filter(bool)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(records=corpora, query=queries, stop=st.booleans(),
       k1=st.sampled_from([0.9, 1.2]), b=st.sampled_from([0.4, 0.75, 0.0]))
def test_search_matches_brute_force(records, query, stop, k1, b):
    stopwords = STOP if stop else frozenset()
    with tempfile.TemporaryDirectory() as tmp:
        index = write_index(Path(tmp) / "idx", records, stopwords)
        source = IndexDirSource(str(index))
        searcher = Searcher(source, k1=k1, b=b)
        text = brute.render(query)
        got = searcher.search(text, k=100)
        build(source.reader, source.doc_lengths(), Path(tmp) / "compact")
        compact = Searcher(source, k1=k1, b=b, index=CompactIndex(Path(tmp) / "compact"))
        assert compact.search(text, k=100) == got  # the compact copy: the same results
    expected = brute.search(brute.Corpus(records, set(stopwords)), query, k1, b)
    ranked = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    assert got.total == len(expected), text
    assert [h.doc_id for h in got.hits] == [d for d, _ in ranked], text
    assert [h.score for h in got.hits] == [s for _, s in ranked], text
