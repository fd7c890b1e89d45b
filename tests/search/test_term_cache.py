"""The searcher's term cache is bounded by bytes, not by a count of terms.

Found by benchmarking: a query set that cycles through more distinct terms than the old
256-term cache held read every term again on every pass (an LRU's worst case), the
frequent terms' long lists included, which are the ones that cost the most to read.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np

from invindex.core.analysis import Analyzer
from invindex.search.arrays import ArrayIndex, nbytes
from invindex.search.termarrays import TermArrays


class Source:
    """A source of ``n`` terms, term i with i + 1 postings; counts its reads."""

    manifest: Dict = {}
    analyzer = Analyzer()

    def __init__(self, n: int) -> None:
        self.reads: List[str] = []
        self.n = n

    def doc_lengths(self) -> Dict[str, int]:
        return {f"d{i:04d}": 1 for i in range(self.n + 1)}

    def term_arrays(self, term: str) -> TermArrays:
        self.reads.append(term)
        k = int(term[1:]) + 1
        return TermArrays(np.arange(k), np.ones(k), np.arange(k + 1), np.zeros(k, np.int64))


def test_a_cycle_through_many_terms_is_read_once():
    source = Source(400)
    index = ArrayIndex(source)
    for _ in range(3):
        for i in range(400):
            index.term(f"t{i}")
    assert len(source.reads) == 400


def test_the_least_recently_used_go_first_when_the_bytes_run_out():
    source = Source(50)
    budget = sum(nbytes(source.term_arrays(f"t{i}")) for i in (40, 41, 42))
    source.reads.clear()
    index = ArrayIndex(source, cache_bytes=budget)
    for i in (40, 41, 42, 40, 43, 40, 41):
        index.term(f"t{i}")
    # 43 (bigger than 41) pushed out 41 and 42, the least recently used; 40 stayed
    assert source.reads == ["t40", "t41", "t42", "t43", "t41"]
