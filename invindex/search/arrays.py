"""Postings as numpy arrays over document numbers (``termarrays``), read from a source.

``ArrayIndex`` reads any ``IndexSource`` lazily, term by term (what a cloud index or a
store needs: no whole download), and keeps the terms it has read in a bounded cache.
A compact on-disk layout (``compact.CompactIndex``) offers the same two methods.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Iterable, List

import numpy as np

from .protocol import IndexSource
from .termarrays import EMPTY, PositionSpace, TermArrays, postings_arrays

__all__ = ["EMPTY", "ArrayIndex", "DocTable", "PositionSpace", "TermArrays"]


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
        return postings_arrays(self.source.postings(term), self.table.number)
