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


CACHE_BYTES = 256 << 20  # the term arrays a searcher keeps (all the benchmark reads: 58 MB)


def nbytes(arrays: TermArrays) -> int:
    return sum(a.nbytes for a in (arrays.docs, arrays.tfs, arrays.pos_offsets,
                                  arrays.positions, arrays.gpos) if a is not None)


class ArrayIndex:
    """Term arrays read from an ``IndexSource`` on demand; the most recently used are
    kept up to ``cache_bytes`` (by size, not by count: a frequent term's arrays cost
    the most to read again, and a count-bounded cache dropped them whenever a query set
    cycled through more terms than it held)."""

    def __init__(self, source: IndexSource, cache_bytes: int = CACHE_BYTES) -> None:
        self.source = source
        self.table = DocTable(source.doc_lengths())
        # A serving store (invindex.stores) hands out ready arrays and a PositionSpace.
        self._arrays = getattr(source, "term_arrays", None)
        self.space = getattr(source, "space", None) if self._arrays else None
        self._cache: OrderedDict[str, TermArrays] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0  # bytes held

    def term(self, term: str) -> TermArrays:
        hit = self._cache.get(term)
        if hit is not None:
            self._cache.move_to_end(term)
            return hit
        return self._keep(term, self._read(term))

    def _keep(self, term: str, arrays: TermArrays) -> TermArrays:
        size = nbytes(arrays)
        if size > self._cache_bytes:
            return arrays
        old = self._cache.pop(term, None)
        self._cached += size - (nbytes(old) if old is not None else 0)
        self._cache[term] = arrays
        while self._cached > self._cache_bytes:
            self._cached -= nbytes(self._cache.popitem(last=False)[1])
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
