"""A term's postings as numpy arrays over document numbers (what the evaluator computes
with), and the document positions laid end to end (what phrases look terms up in).

Documents are numbered in doc_id (code point) order, so "score descending, then doc_id"
is "score descending, then number", and a number maps back to its doc_id by index.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Dict, Sequence

import numpy as np


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


def postings_arrays(postings: Sequence[tuple], number: Dict[str, int]) -> TermArrays:
    """The arrays of ``(doc_id, tf, positions)`` postings (any ``IndexSource``'s)."""
    if not postings:
        return EMPTY
    n = len(postings)
    docs = np.fromiter((number[p[0]] for p in postings), np.int64, n)
    tfs = np.fromiter((p[1] for p in postings), np.float64, n)
    counts = np.fromiter((len(p[2]) for p in postings), np.int64, n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    positions = np.fromiter(chain.from_iterable(p[2] for p in postings), np.int64,
                            int(offsets[-1]))
    return TermArrays(docs, tfs, offsets, positions)
