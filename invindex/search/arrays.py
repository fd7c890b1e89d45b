"""Postings as numpy arrays over document numbers: what the evaluator computes with.

Documents are numbered in doc_id (code point) order, so "score descending, then doc_id"
is "score descending, then number", and a number maps back to its doc_id by index.
``ArrayIndex`` reads any ``IndexSource`` lazily, term by term (what a cloud index or a
store needs: no whole download), and keeps the terms it has read in a bounded cache.
A compact on-disk layout (``compact.CompactIndex``) offers the same two methods.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from itertools import chain
from typing import Dict, Iterable, List

import numpy as np

from .source import IndexSource


@dataclass
class TermArrays:
    docs: np.ndarray  # int64 document numbers, ascending
    tfs: np.ndarray  # float64 term frequencies
    pos_offsets: np.ndarray | None  # int64, len(docs) + 1: positions of docs[i] are
    positions: np.ndarray | None  # positions[pos_offsets[i]:pos_offsets[i + 1]]
    gpos: np.ndarray | None = None  # the positions in a PositionSpace, ascending

    @property
    def df(self) -> int:
        return len(self.docs)


@dataclass
class PositionSpace:
    """All documents' positions laid end to end: document d's position p is
    ``start[d] + p``, and ``start[d] + end[d]`` (its last position + 1) is followed by a
    gap before the next document. A phrase is then a lookup of "is term t at global
    position g + offset" in a bitmap of ``size`` bits, with no sort and no join by doc."""

    start: np.ndarray  # int64 per document
    end: np.ndarray  # int64 per document: last position + 1 (0 for an empty document)
    size: int


EMPTY = TermArrays(np.zeros(0, np.int64), np.zeros(0), np.zeros(1, np.int64),
                   np.zeros(0, np.int64))


class DocTable:
    """Document numbers, ids and lengths."""

    def __init__(self, lengths: Dict[str, int]) -> None:
        self.ids: List[str] = sorted(lengths)
        self.number: Dict[str, int] = {d: i for i, d in enumerate(self.ids)}
        self.lengths = np.array([lengths[d] for d in self.ids], dtype=np.float64)
        self.n = len(self.ids)
        self.tokens = int(self.lengths.sum())


class ArrayIndex:
    """Term arrays read from an ``IndexSource`` on demand, the last ``cache_terms`` kept."""

    def __init__(self, source: IndexSource, cache_terms: int = 256) -> None:
        self.source = source
        self.table = DocTable(source.doc_lengths())
        # A serving store (invindex.stores) hands out ready arrays and a PositionSpace.
        self._arrays = getattr(source, "term_arrays", None)
        self.space = getattr(source, "space", None) if self._arrays else None
        self._cache: OrderedDict[str, TermArrays] = OrderedDict()
        self._cache_terms = cache_terms

    def term(self, term: str) -> TermArrays:
        hit = self._cache.get(term)
        if hit is not None:
            self._cache.move_to_end(term)
            return hit
        return self._keep(term, self._read(term))

    def _keep(self, term: str, arrays: TermArrays) -> TermArrays:
        self._cache[term] = arrays
        if len(self._cache) > self._cache_terms:
            self._cache.popitem(last=False)
        return arrays

    def prefetch(self, terms: Iterable[str]) -> None:
        """Read the query's terms that are not cached in one request, when the source
        can (a serving store: one round trip instead of one per term)."""
        many = getattr(self.source, "many_term_arrays", None) if self._arrays else None
        wanted = [t for t in dict.fromkeys(terms) if t not in self._cache]
        if many is not None and len(wanted) > 1:
            for term, arrays in many(wanted).items():
                self._keep(term, arrays)

    def _read(self, term: str) -> TermArrays:
        if self._arrays is not None:
            return self._arrays(term)
        postings = self.source.postings(term)
        if not postings:
            return EMPTY
        number = self.table.number
        n = len(postings)
        docs = np.fromiter((number[p[0]] for p in postings), np.int64, n)
        tfs = np.fromiter((p[1] for p in postings), np.float64, n)
        counts = np.fromiter((len(p[2]) for p in postings), np.int64, n)
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        positions = np.fromiter(chain.from_iterable(p[2] for p in postings), np.int64,
                                int(offsets[-1]))
        return TermArrays(docs, tfs, offsets, positions)
