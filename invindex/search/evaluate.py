"""Boolean matching and BM25 over term arrays (DESIGN.md, "Search"), whole arrays at once.

Each node evaluates to ``(docs, scores)``: the ascending numbers of the documents it
matches and their scores. A group matches, with required clauses, the documents that
match all of them, else those matching any optional one, minus those matching an
excluded one; a document's score is the sum, in query order, of the scores of the
required and optional clauses it matches. Sums run in query order with the
expressions of ``core.scoring``, so a scalar reference gets the same floats.
"""

from __future__ import annotations

from typing import Callable, Tuple

import numpy as np

from ..core.scoring import idf
from .arrays import TermArrays
from .plan import GroupNode, PhraseNode, PlanNode, TermNode
from .query import Occur

Result = Tuple[np.ndarray, np.ndarray]
_NONE: Result = (np.zeros(0, np.int64), np.zeros(0))


class Evaluator:
    """Evaluates plan trees against ``term(t) -> TermArrays`` for one collection."""

    def __init__(self, term: Callable[[str], TermArrays], n_docs: int,
                 norms: np.ndarray) -> None:
        self.term = term
        self.n = n_docs
        self.norms = norms  # k1 * (1 - b + b * dl / avgdl) per document number

    def evaluate(self, node: PlanNode) -> Result:
        if isinstance(node, TermNode):
            return self._term(node.term)
        if isinstance(node, PhraseNode):
            return self._phrase(node)
        return self._group(node)

    def _term(self, term: str) -> Result:
        ta = self.term(term)
        if not ta.df:
            return _NONE
        weight = idf(self.n, ta.df)
        return ta.docs, weight * ta.tfs / (ta.tfs + self.norms[ta.docs])

    def _phrase(self, node: PhraseNode) -> Result:
        arrays = [self.term(t) for t, _ in node.terms]
        if any(not a.df for a in arrays):
            return _NONE
        candidates = arrays[0].docs
        for a in sorted(arrays[1:], key=lambda a: a.df):
            candidates = np.intersect1d(candidates, a.docs, assume_unique=True)
            if not len(candidates):
                return _NONE
        keys = None
        for a, (_, offset) in sorted(zip(arrays, node.terms, strict=True),
                                     key=lambda x: x[0].positions.size):
            k = _start_keys(a, candidates, offset)
            keys = k if keys is None else np.intersect1d(keys, k, assume_unique=True)
            if not len(keys):
                return _NONE
        docs, f = np.unique(keys >> 32, return_counts=True)
        weight = sum(idf(self.n, a.df) for a in arrays)
        f = f.astype(np.float64)
        return docs, weight * f / (f + self.norms[docs])

    def _group(self, node: GroupNode) -> Result:
        parts = [(occ, self.evaluate(child)) for occ, child in node.clauses]
        musts = [r for occ, r in parts if occ is Occur.MUST]
        if musts:
            docs = musts[0][0]
            for d, _ in musts[1:]:
                docs = np.intersect1d(docs, d, assume_unique=True)
        else:
            shoulds = [r[0] for occ, r in parts if occ is Occur.SHOULD]
            docs = np.unique(np.concatenate(shoulds)) if shoulds else _NONE[0]
        nots = [r[0] for occ, r in parts if occ is Occur.MUST_NOT]
        if nots and len(docs):
            docs = np.setdiff1d(docs, np.concatenate(nots), assume_unique=False)
        scores = np.zeros(len(docs))
        if not len(docs):
            return docs, scores
        for occ, (d, s) in parts:
            if occ is Occur.MUST_NOT or not len(d):
                continue
            at = np.searchsorted(d, docs)
            hit = at < len(d)
            hit[hit] = d[at[hit]] == docs[hit]
            scores[hit] += s[at[hit]]
        return docs, scores


def _start_keys(a: TermArrays, candidates: np.ndarray, offset: int) -> np.ndarray:
    """``doc << 32 | start`` for each occurrence of the term in a candidate document,
    start = its position minus its offset in the phrase (where the phrase would begin)."""
    sel = np.flatnonzero(np.isin(a.docs, candidates, assume_unique=True))
    starts = a.pos_offsets[sel]
    counts = a.pos_offsets[sel + 1] - starts
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    idx = np.arange(total) + np.repeat(starts - first, counts)
    pos = a.positions[idx] - offset
    docs = np.repeat(a.docs[sel], counts)
    ok = pos >= 0
    return np.unique((docs[ok] << 32) | pos[ok])


def top_k(docs: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Indexes into ``docs`` of the ``k`` best: score descending, then doc number."""
    if k <= 0 or not len(docs):
        return np.zeros(0, np.int64)
    if len(docs) > 4 * k:
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        pick = np.flatnonzero(scores >= kth)  # ties with the k-th stay: doc order decides
        order = pick[np.lexsort((docs[pick], -scores[pick]))]
    else:
        order = np.lexsort((docs, -scores))
    return order[:k]
