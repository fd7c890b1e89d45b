"""The evaluator's work follows a query's postings, not the corpus.

Found by profiling a store query: each boolean group allocated and scanned arrays over
every document (scores, hit counts, a mask), and a phrase over a serving store a bitmap
over every position of the corpus for each of its rarer terms. Measured here as the
memory a query allocates (tracemalloc sees numpy's buffers), which is deterministic
where time is not; the old dense accumulation is kept below as the oracle of a
property test: same documents, same scores to the last bit.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.search.evaluate import Evaluator
from invindex.search.plan import GroupNode, PhraseNode, TermNode
from invindex.search.query import Occur
from invindex.search.termarrays import PositionSpace, TermArrays

LIMIT = 1 << 20  # bytes a query of a few thousand postings may allocate


def _term(docs, tfs=None, positions=None, space=None) -> TermArrays:
    docs = np.asarray(docs, np.int64)
    tfs = np.ones(len(docs)) if tfs is None else np.asarray(tfs, np.float64)
    if positions is None:
        positions = [[0]] * len(docs)
    offsets = np.zeros(len(docs) + 1, np.int64)
    np.cumsum([len(p) for p in positions], out=offsets[1:])
    flat = np.array([x for p in positions for x in p], np.int64)
    gpos = None
    if space is not None:
        gpos = np.repeat(space.start[docs], np.diff(offsets)) + flat
    return TermArrays(docs, tfs, offsets, flat, gpos)


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_groups_memory_follows_its_postings_not_the_corpus():
    n = 10_000_000  # documents; the clauses match a few thousand of them
    norms = np.broadcast_to(np.float64(1.0), (n,))  # no memory of its own
    rng = np.random.default_rng(1)
    terms = {t: _term(np.unique(rng.integers(0, n, 2000))) for t in "abcd"}
    ev = Evaluator(terms.__getitem__, n, norms)
    for occurs in [(Occur.SHOULD, Occur.SHOULD, Occur.SHOULD),
                   (Occur.MUST, Occur.SHOULD, Occur.MUST_NOT),
                   (Occur.MUST, Occur.MUST, Occur.SHOULD)]:
        tree = GroupNode(tuple((o, TermNode(t)) for o, t in zip(occurs, "abc", strict=True)))
        assert _peak(lambda tree=tree: ev.evaluate(tree)) < LIMIT, occurs


def test_a_phrase_over_a_position_space_follows_its_postings():
    n, span = 1_000_000, 50  # every document 50 positions: 51 M global positions
    end = np.full(n, span, np.int64)
    start = np.arange(n, dtype=np.int64) * (span + 1)
    space = PositionSpace(start, end, int(start[-1] + span + 1))
    norms = np.ones(n)
    docs = np.arange(0, n, 1000)
    terms = {"x": _term(docs, positions=[[3, 9]] * len(docs), tfs=[2] * len(docs),
                        space=space),
             "y": _term(docs[::2], positions=[[4]] * len(docs[::2]), space=space)}
    ev = Evaluator(terms.__getitem__, n, norms, space)
    tree = GroupNode(((Occur.SHOULD, PhraseNode((("x", 0), ("y", 1)))),))
    got = {}
    assert _peak(lambda: got.update(r=ev.evaluate(tree))) < LIMIT
    assert np.array_equal(got["r"][0], docs[::2])


def _dense_group(ev: Evaluator, parts):
    """The evaluator's group accumulation before this change (dense over N)."""
    n_must = sum(1 for occ, _ in parts if occ is Occur.MUST)
    acc = np.zeros(ev.n)
    hits = np.zeros(ev.n, np.int32)
    excluded = np.zeros(ev.n, bool)
    for occ, (d, s) in parts:
        if occ is Occur.MUST_NOT:
            excluded[d] = True
            continue
        acc[d] += s
        if occ is Occur.MUST:
            hits[d] += 1
        elif not n_must:
            hits[d] = 1
    docs = np.flatnonzero((hits == max(n_must, 1)) & ~excluded)
    return docs, acc[docs]


clause = st.tuples(st.sampled_from(list(Occur)), st.sampled_from("abcdef"))


@settings(max_examples=300, deadline=None)
@given(n=st.sampled_from([5, 40, 1000]), seed=st.integers(0, 2**16),
       clauses=st.lists(clause, min_size=2, max_size=6))
def test_the_sparse_group_equals_the_dense_one(n, seed, clauses):
    rng = np.random.default_rng(seed)
    norms = rng.uniform(0.3, 2.0, n)
    terms = {}
    for t in "abcdef":
        docs = np.unique(rng.integers(0, n, rng.integers(0, min(n, 60) + 1)))
        terms[t] = _term(docs, tfs=rng.integers(1, 5, len(docs)))
    ev = Evaluator(terms.__getitem__, n, norms)
    if all(o is Occur.MUST_NOT for o, _ in clauses):
        return  # matches nothing (a rule of its own, tested elsewhere)
    tree = GroupNode(tuple((o, TermNode(t)) for o, t in clauses))
    docs, scores = ev.evaluate(tree)
    want_docs, want_scores = _dense_group(
        ev, [(o, ev.evaluate(TermNode(t))) for o, t in clauses])
    assert np.array_equal(docs, want_docs)
    assert np.array_equal(scores, want_scores)  # bit for bit: same sums, same order
