"""The two batch inverters (pure Python, numpy+pyarrow) write identical run lines."""

from __future__ import annotations

import io
from operator import itemgetter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.core.analysis import Analyzer
from invindex.core.records import iter_records
from invindex.runners.fast_python import invert_py

from .strategies import corpora

invert_arrow = pytest.importorskip("invindex.runners.invert_arrow").invert_arrow

ANALYZERS = [Analyzer(), Analyzer.from_options("english", True, 2, 6, False),
             Analyzer.from_options(None, True, 1, None, True)]


@settings(max_examples=300, deadline=None)
@given(corpora, st.sampled_from(ANALYZERS))
def test_arrow_and_python_inverters_agree(data, analyzer):
    records = sorted(iter_records(io.BytesIO(data)), key=itemgetter(0))
    unique = all(a[0] < b[0] for a, b in zip(records, records[1:], strict=False))
    assert invert_arrow(records, analyzer, unique) == invert_py(records, analyzer, unique)


latin1_text = st.text(st.characters(max_codepoint=0xFF, blacklist_characters="\n"), max_size=40)
ascii_text = st.text(st.sampled_from("aB9 _-,.\t\r\x0bZz"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "é"]),
                          st.one_of(latin1_text, ascii_text)), max_size=12),
       st.sampled_from(ANALYZERS))
def test_latin1_tokenizer_matches_python(records, analyzer):
    """The numpy tokenizer for Latin-1 batches (tables built from str.lower/isalnum)."""
    records = sorted(records, key=itemgetter(0))
    unique = all(a[0] < b[0] for a, b in zip(records, records[1:], strict=False))
    assert invert_arrow(records, analyzer, unique) == invert_py(records, analyzer, unique)


def test_latin1_path_is_taken_for_latin1_text():
    from invindex.runners import invert_arrow as mod

    assert mod._tokenize_latin1("Straße Ünïcode\nx") is not None
    assert mod._tokenize_latin1("Σ") is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=40), st.integers(1, 7), st.integers(0, 5))
def test_vectorized_partitions_match_partition_of(terms, parts, skip):
    """The arrow engine hashes all of a run's terms at once, as Hadoop's partitioner
    (``partition_of``) does one by one; on a sliced array too."""
    import pyarrow as pa

    from invindex.core.indexfmt import partition_of
    from invindex.runners.invert_arrow import partitions

    arr = pa.array(["x"] * skip + terms, pa.string()).slice(skip)
    assert partitions(arr, parts).tolist() == [partition_of(t, parts) for t in terms]


# Good records' lines as the routing writes them (no control character, a tab after a
# non-empty doc_id): ids ASCII or not, texts ASCII, Latin-1 or beyond, ids repeated or not.
routed_ids = st.one_of(st.sampled_from(["a", "b", "c10", "c2", "é", 'q"', "b\\s", "ид"]),
                       st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF,
                                             blacklist_categories=("Cs",)),
                               min_size=1, max_size=4))
routed_texts = st.one_of(ascii_text, latin1_text, st.text(max_size=20)).map(
    lambda t: "".join(c for c in t if c not in "\n\r" and not (ord(c) < 32 and c != "\t")))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(routed_ids, routed_texts), min_size=1, max_size=12),
       st.sampled_from(ANALYZERS + [Analyzer.from_options(None, True, 1, None, False,
                                                            store_text=True)]))
def test_undecoded_lines_invert_as_their_records(records, analyzer):
    """``invert_lines`` (a routed range's lines, not decoded into records, in file
    order) writes the run that ``invert_arrow`` writes for the same records sorted by
    doc_id, and declines (None: the caller decodes) exactly for a repeated doc_id, a
    text beyond Latin-1 or stored texts."""
    from invindex.runners.fast_read import clean_ids
    from invindex.runners.invert_arrow import invert_lines

    lines = [f"{d}\t{t}".encode() for d, t in records]
    assert clean_ids(lines, 1) is not None  # what the routing checks before
    got = invert_lines(b"".join(line + b"\n" for line in lines), analyzer)
    ids = [d for d, _ in records]
    latin1 = all(ord(c) < 256 for _, t in records for c in t)
    assert (got is None) == (len(set(ids)) < len(ids) or not latin1 or analyzer.store_text)
    if got is not None:
        expected = invert_arrow(sorted(records, key=itemgetter(0)), analyzer, True)
        assert got[0] == expected[0]
        assert got[1] == expected[1]
