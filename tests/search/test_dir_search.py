"""Searching an index directory reads each term's line straight to arrays.

Found by timing it: ``search`` on a directory took p95 190 ms where the SQLite store
of the same index took 3 ms, the time going to ``json.loads`` of long posting lists,
the reader's line check (a second decode, a re-encode, a Python loop per posting) and
a Python object per posting. Now a canonical line is parsed at numpy speed
(``search.jsonline``); only a line that is not provably canonical takes the careful
route, so a damaged line is still refused, never answered from.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invindex.index import integrity
from invindex.search.jsonline import json_numbers, line_arrays
from invindex.search.searcher import Searcher
from invindex.search.source import IndexDirSource
from invindex.search.termarrays import postings_arrays

from ..reference import reference_lines
from . import brute
from .conftest import write_index

RECORDS = [("d1", "alpha beta gamma alpha"), ("d2", "beta beta delta"),
           ("d\u00e9", "alpha delta eps"), ('q"uote\\d', "gamma alpha beta"),
           ("d 7", "eps eps eps alpha")]
QUERIES = [brute.Item(None, "", "word", "alpha"), brute.Item(None, "+", "word", "beta"),
           brute.Item(None, "", "phrase", "alpha beta"),
           brute.Item("OR", "-", "word", "delta")]


def _boom(*args, **kwargs):
    raise AssertionError("a term's line went through json / the Python line check")


def test_a_directory_search_decodes_no_line_with_json(tmp_path, monkeypatch):
    index = write_index(tmp_path / "idx", RECORDS)
    searcher = Searcher(IndexDirSource(str(index)))  # the document table: read here
    monkeypatch.setattr(json, "loads", _boom)
    monkeypatch.setattr(integrity, "check_line", _boom)
    for n in range(1, len(QUERIES) + 1):
        got = searcher.search(brute.render(QUERIES[:n]), k=10)
        expected = brute.search(brute.Corpus(RECORDS, set()), QUERIES[:n])
        ranked = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
        assert [(h.doc_id, h.score) for h in got.hits] == ranked


def _numbers(records):
    ids = sorted({d for d, _ in records})
    return ids, json_numbers(ids)


def _careful(line: bytes, ids):
    """The arrays by the old route: json, one tuple per posting."""
    postings = json.loads(line.partition(b"\t")[2])["postings"]
    number = {d: i for i, d in enumerate(ids)}
    return postings_arrays([(p[0], p[1], p[2] if len(p) > 2 else ()) for p in postings],
                           number)


doc_ids = st.sampled_from(["d1", "d2", "d\u00e9", "d 7", 'q"uote', "back\\slash", "D8"])
corpora = st.lists(st.tuples(doc_ids, st.lists(st.sampled_from(["a", "b", "c"]),
                                               max_size=8).map(" ".join)),
                   min_size=1, max_size=6)
NOISE = st.sampled_from(list(b'0123456789,[]{}":s \\a-.'))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=corpora, positions=st.booleans(), data=st.data())
def test_the_fast_route_accepts_exactly_what_the_line_check_accepts(records, positions,
                                                                     data):
    """A term's line, then the same line with a byte changed, dropped or added: the
    fast route gives arrays only for a line the reader's check accepts, and then the
    same arrays as json; the undamaged line always takes the fast route."""
    ids, number = _numbers(records)
    data_bytes = "".join(f"{d}\t{t}\n" for d, t in records).encode()
    lines = [ln.encode() + b"\n" for ln in reference_lines(data_bytes, positions=positions)
             if ln[:1] not in "!#"]
    if not lines:
        return
    line = data.draw(st.sampled_from(lines))
    assert _same(line_arrays(line, number, positions), _careful(line, ids))
    tab = line.index(b"\t")
    at = data.draw(st.integers(tab + 1, len(line) - 2))
    how = data.draw(st.sampled_from(["replace", "drop", "insert"]))
    byte = bytes([data.draw(NOISE)])
    damaged = {"replace": line[:at] + byte + line[at + 1:], "drop": line[:at] + line[at + 1:],
               "insert": line[:at] + byte + line[at:]}[how]
    fast = line_arrays(damaged, number, positions)
    if fast is not None:
        assert integrity.line_problem(damaged, positions) is None, damaged
        assert _same(fast, _careful(damaged, ids)), damaged


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) and getattr(a, f).dtype ==
               getattr(b, f).dtype for f in ("docs", "tfs", "pos_offsets", "positions"))


def test_every_reader_of_a_directory_gives_the_same_answers(tmp_path):
    """The fast route beside the ``postings`` route on a bigger index (with and without
    positions): the same documents, the same scores."""
    words = [f"w{i}" for i in range(40)]
    rng = np.random.default_rng(7)
    records = [(f"doc{i:04d}", " ".join(rng.choice(words, rng.integers(1, 60))))
               for i in range(400)]
    for positions in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            index = write_index(Path(tmp) / "idx", records, positions=positions)
            fast = Searcher(IndexDirSource(str(index)))
            slow_source = IndexDirSource(str(index))
            slow_source.term_arrays = None  # ArrayIndex then reads postings()
            slow = Searcher(slow_source)
            for q in ["w1", "w2 w3", "+w4 -w5", '"w6 w7"', "(w8 OR w9) AND w10"]:
                if positions or '"' not in q:
                    assert fast.search(q, k=50) == slow.search(q, k=50), q
