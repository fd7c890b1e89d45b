"""Boolean matching and BM25 over term arrays (DESIGN.md, "Search"), whole arrays at once.

Each node evaluates to ``(docs, scores)``: the ascending numbers of the documents it
matches and their scores. A group matches, with required clauses, the documents that
match all of them, else those matching any optional one, minus those matching an
excluded one; a document's score is the sum, in query order, of the scores of the
required and optional clauses it matches. Sums run in query order with the
expressions of ``core.scoring``, so a scalar reference gets the same floats.

A group accumulates its clauses' scores and hit counts into arrays with one slot per
document that some scoring clause matches (the sorted union of their doc numbers), so
its cost follows the postings, not the corpus; when those postings cover a good share
of the corpus (1/16 or more), one slot per document (Lucene's BooleanScorer idea) costs
no more and needs no sort. Either way a slot's sum runs in query order.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Tuple

import numpy as np

from ..core.scoring import idf
from .arrays import PositionSpace, TermArrays
from .plan import GroupNode, PhraseNode, PlanNode, TermNode
from .query import Occur

Result = Tuple[np.ndarray, np.ndarray]
_NONE: Result = (np.zeros(0, np.int64), np.zeros(0))
DENSE = 16  # a group's postings x this >= the documents: one slot per document


class Evaluator:
    """Evaluates plan trees against ``term(t) -> TermArrays`` for one collection."""

    def __init__(self, term: Callable[[str], TermArrays], n_docs: int,
                 norms: np.ndarray, space: PositionSpace | None = None) -> None:
        self.term = term
        self.n = n_docs
        self.norms = norms  # k1 * (1 - b + b * dl / avgdl) per document number
        self.space = space  # when the term arrays carry global positions (gpos)
        self._bitmaps: OrderedDict[str, np.ndarray] = OrderedDict()

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
        if self.space is not None and all(a.gpos is not None for a in arrays):
            return self._phrase_in_space(node, arrays)
        by_df = sorted(arrays, key=lambda a: a.df)
        candidates = by_df[0].docs  # documents holding every term
        for a in by_df[1:]:
            candidates = _common(candidates, a.docs)
            if not len(candidates):
                return _NONE
        keys = None  # doc << 32 | phrase start, for the starts every term so far agrees on
        for a, (_, offset) in sorted(zip(arrays, node.terms, strict=True),
                                     key=lambda x: x[0].positions.size):
            k = _start_keys(a, candidates, offset)
            keys = k if keys is None else _common(keys, k)
            if not len(keys):
                return _NONE
            candidates = _dedupe(keys >> 32)  # fewer documents for the next term
        return self._phrase_scores(keys >> 32, arrays)

    def _phrase_scores(self, doc: np.ndarray, arrays: list) -> Result:
        """Scores from the document of each phrase occurrence (ascending): f = count."""
        first = np.flatnonzero(np.concatenate(([True], doc[1:] != doc[:-1])))
        docs = doc[first]
        f = np.diff(np.append(first, len(doc))).astype(np.float64)
        weight = sum(idf(self.n, a.df) for a in arrays)  # the terms' IDFs, phrase order
        return docs, weight * f / (f + self.norms[docs])

    def _phrase_in_space(self, node: PhraseNode, arrays: list) -> Result:
        """Phrase starts from the rarest term's global positions, kept where every other
        term is at start + its offset (``_holds``) inside the same document."""
        space = self.space
        assert space is not None
        anchor = min(range(len(arrays)), key=lambda i: arrays[i].gpos.size)
        starts = _dedupe(np.asarray(arrays[anchor].gpos, np.int64)) - node.terms[anchor][1]
        for i, (term, offset) in enumerate(node.terms):
            if i == anchor or not len(starts):
                continue
            starts = starts[self._holds(term, arrays[i], starts + offset)]
        if not len(starts):
            return _NONE
        doc = np.searchsorted(space.start, starts, side="right") - 1
        last = max(offset for _, offset in node.terms)
        inside = (doc >= 0) & (starts + last < space.start[doc] + space.end[doc])
        doc = doc[inside]
        return self._phrase_scores(doc, arrays) if len(doc) else _NONE

    def _holds(self, term: str, a: TermArrays, at: np.ndarray) -> np.ndarray:
        """Whether ``term`` is at each global position of ``at``: a lookup in a bitmap
        of all positions for a frequent term (kept for the next query; its size is
        under 64 bits per position of the term), else a bisection of its positions."""
        space = self.space
        assert space is not None
        inside = (at >= 0) & (at < space.size)
        if a.gpos.size * 64 > space.size:
            return self._bitmap(term, a)[np.clip(at, 0, space.size - 1)] & inside
        return _bisect(a.gpos, at)[1] & inside

    def _bitmap(self, term: str, a: TermArrays) -> np.ndarray:
        """Which global positions hold ``term`` (a frequent one); the last 8 are kept."""
        bm = self._bitmaps.get(term)
        if bm is not None:
            self._bitmaps.move_to_end(term)
            return bm
        assert self.space is not None
        bm = np.zeros(self.space.size, bool)
        bm[a.gpos] = True
        self._bitmaps[term] = bm
        if len(self._bitmaps) > 8:
            self._bitmaps.popitem(last=False)
        return bm

    def _group(self, node: GroupNode) -> Result:
        parts = [(occ, self.evaluate(child)) for occ, child in node.clauses]
        if len(parts) == 1 and parts[0][0] is not Occur.MUST_NOT:
            return parts[0][1]  # one clause: its own result, as is
        n_must = sum(1 for occ, _ in parts if occ is Occur.MUST)
        scored = [(occ, r) for occ, r in parts if occ is not Occur.MUST_NOT]
        if not scored:
            return _NONE
        total = sum(len(d) for _, (d, _) in scored)
        # slots: the documents some scoring clause matches (sorted), or all of them
        keys = None if total * DENSE >= self.n else _dedupe(np.sort(
            np.concatenate([d for _, (d, _) in scored]), kind="stable"))
        size = self.n if keys is None else len(keys)
        acc = np.zeros(size)
        hits = np.zeros(size, np.int32)  # required clauses matched, or any optional
        for occ, (d, s) in scored:  # query order: the same float sums as a scalar loop
            at = d if keys is None else np.searchsorted(keys, d)
            acc[at] += s  # d has no repeats
            if occ is Occur.MUST:
                hits[at] += 1
            elif not n_must:
                hits[at] = 1
        mask = hits == max(n_must, 1)
        for occ, (d, _) in parts:
            if occ is Occur.MUST_NOT:
                mask[d if keys is None else _slots_of(keys, d)] = False
        found = np.flatnonzero(mask)
        return (found if keys is None else keys[found]), acc[found]


def _bisect(sorted_values: np.ndarray, values: np.ndarray
            ) -> Tuple[np.ndarray, np.ndarray]:
    """``(at, found)``: where each of ``values`` is or would be in ``sorted_values``
    (ascending, not empty; clipped to its last index), and whether it is there."""
    at = np.searchsorted(sorted_values, values)
    at[at == len(sorted_values)] = len(sorted_values) - 1
    return at, sorted_values[at] == values


def _slots_of(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where those of ``values`` that are in ``keys`` (ascending) are."""
    if not len(keys):
        return np.zeros(0, np.int64)
    at, found = _bisect(keys, values)
    return at[found]


def _dedupe(sorted_values: np.ndarray) -> np.ndarray:
    if len(sorted_values) < 2:
        return sorted_values
    return sorted_values[np.concatenate(([True], sorted_values[1:] != sorted_values[:-1]))]


def _common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of two ascending, repeat-free arrays that are in both: the shorter
    one looked up in the longer by bisection (no sort of both, as intersect1d does)."""
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    if not len(small):
        return small
    return small[_bisect(big, small)[1]]


def _start_keys(a: TermArrays, candidates: np.ndarray, offset: int) -> np.ndarray:
    """``doc << 32 | start`` for each occurrence of the term in a candidate document,
    start = its position minus its offset in the phrase (where the phrase would begin).
    ``candidates`` are all among the term's documents."""
    sel = np.searchsorted(a.docs, candidates)
    starts = a.pos_offsets[sel]
    counts = a.pos_offsets[sel + 1] - starts
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    idx = np.arange(total) + np.repeat(starts - first, counts)
    pos = a.positions[idx] - offset
    docs = np.repeat(a.docs[sel], counts)
    ok = pos >= 0
    return _dedupe((docs[ok] << 32) | pos[ok])  # ascending: docs, then positions in a doc


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
