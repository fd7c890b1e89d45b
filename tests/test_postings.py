"""Map/combine/reduce against a brute-force reference index (property-based)."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings

from invindex.core.analysis import ENGLISH_STOPWORDS, Analyzer
from invindex.core.mapping import map_record
from invindex.core.postings import UnsortedInputError, combine_term, reduce_term
from invindex.core.records import iter_records
from invindex.core.reduce_lines import reduce_lines

from .reference import reference_lines
from .strategies import corpora


def core_lines(data: bytes, analyzer: Analyzer, combine_times: int = 0) -> list:
    """The job in-process: map, optionally combine (repeatedly), byte-sort, reduce."""
    inter = []
    for doc_id, text in iter_records(io.BytesIO(data)):
        inter.extend(map_record(analyzer, doc_id, text)[0])
    inter.sort(key=lambda s: s.encode("utf-8"))
    for _ in range(combine_times):
        combined = []
        by_term: dict = {}
        for line in inter:
            term, _, value = line.partition("\t")
            by_term.setdefault(term, []).append(value)
        for term, values in by_term.items():
            combined.extend(f"{term}\t{v}" for v in combine_term(values))
        inter = sorted(combined, key=lambda s: s.encode("utf-8"))
    return list(reduce_lines(inter))


@settings(max_examples=300, deadline=None)
@given(corpora)
def test_default_analyzer_matches_reference(data):
    assert core_lines(data, Analyzer()) == reference_lines(data)


@settings(max_examples=150, deadline=None)
@given(corpora)
def test_options_match_reference(data):
    a = Analyzer.from_options(stopwords="english", stem=True, min_token_length=2,
                              max_token_length=6, positions=False)
    expected = reference_lines(data, stopwords=set(ENGLISH_STOPWORDS), stem=True, min_len=2,
                               max_len=6, positions=False)
    assert core_lines(data, a) == expected


@settings(max_examples=100, deadline=None)
@given(corpora)
def test_combiner_accepts_its_own_output(data):
    """Spark re-applies combiners: running it 0, 1 or 3 times must not change anything."""
    a = Analyzer()
    once = core_lines(data, a, combine_times=1)
    assert once == core_lines(data, a, combine_times=0) == core_lines(data, a, combine_times=3)


def test_duplicate_doc_ids_merge_order_independently():
    """Positions merge as numbers: 9 < 10 < 100, though "10" < "100" < "9" as text."""
    values = ["d1\t1\t10", "d1\t3\t0,9,100", "d2\t1\t3"]
    expected = 'w\t{"df":2,"postings":[["d1",4,[0,9,10,100]],["d2",1,[3]]]}'
    assert reduce_term("w", values) == expected
    assert reduce_term("w", [values[1], values[0], values[2]]) == expected


def test_reducer_rejects_unsorted_terms_and_docs():
    with pytest.raises(UnsortedInputError, match="LC_ALL=C"):
        list(reduce_lines(["b\td1\t1\t0", "a\td1\t1\t0"]))
    with pytest.raises(UnsortedInputError, match="LC_ALL=C"):
        list(reduce_lines(["a\td2\t1\t0", "a\td1\t1\t0"]))


def test_locale_sort_order_is_caught():
    """en_US-style sorting ignores case and punctuation; byte order does not."""
    lines = ["Zeta\td\t1\t0", "alpha\td\t1\t0"]  # byte order: 'Z' < 'a'
    assert len(list(reduce_lines(lines))) == 2
    with pytest.raises(UnsortedInputError):
        list(reduce_lines(list(reversed(lines))))


def test_json_is_canonical():
    line = reduce_term("caf\u00e9", ['doc "q"\\é\t2\t0,1'])
    assert line == 'caf\u00e9\t{"df":1,"postings":[["doc \\"q\\"\\\\é",2,[0,1]]]}'


def test_reducer_memory_does_not_hold_raw_values():
    """reduce_term consumes a generator lazily: values are not collected first."""
    seen = []

    def values():
        for i in range(1000):
            seen.append(i)
            yield f"d{i:04d}\t1\t0"

    line = reduce_term("t", values())
    assert line.startswith('t\t{"df":1000,') and len(seen) == 1000


def test_shuffled_input_sorted_again_gives_same_index():
    data = "".join(f"d{i}\t{' '.join(random.Random(i).choices(['abc', 'de', 'fg'], k=9))}\n"
                   for i in range(50)).encode()
    assert core_lines(data, Analyzer()) == reference_lines(data)
