"""The fast engine's reduce: one term's pieces from several batches, merged in doc_id order.

A piece is the postings one batch wrote for a term. Pieces whose doc_id ranges are
disjoint are concatenated; overlapping ones are merged by sorting the posting strings,
or posting by posting when ids are escaped or repeated. Each case below lays its batches
out byte for byte (a batch size that ends every batch exactly at a line end) so the
pieces are the ones named, and the whole build must equal the reference index.
"""

from __future__ import annotations

import importlib.util
from typing import List, Tuple

import pytest

from invindex.build import build_index
from invindex.core.analysis import Analyzer

from .conftest import read_index_lines
from .reference import reference_lines

Batch = List[Tuple[str, str]]


@pytest.fixture(autouse=True)
def batches_in_file_order(monkeypatch):
    """These cases are runs of consecutive batches of a file: no routing by doc_id
    range (fast_route), which would make every piece disjoint."""
    from invindex.runners import fast

    monkeypatch.setattr(fast, "ROUTE", False)


def corpus(batches: List[Batch]) -> Tuple[bytes, int]:
    """The file and the batch size that cuts it into exactly these batches: each batch
    is padded (spaces at the end of its last text) to the same length."""
    raw = [b"".join(f"{d}\t{t}\n".encode() for d, t in batch) for batch in batches]
    size = max(map(len, raw))
    return b"".join(r[:-1] + b" " * (size - len(r)) + b"\n" for r in raw), size


CASES = {
    # '!' sorts before the closing quote: "a!" after "a" however the fragments compare
    "bang": [[("a", "x"), ("c", "x")], [("a!", "x")]],
    "bang only, no space": [[("b", "x"), ("b!z", "x z")], [("b!", "x"), ("b!!", "x")]],
    "space and bang": [[("a", "x"), ("a b", "x")], [("a ", "x"), ("a!", "x"), ("a c", "x")]],
    # bytes between the quote and the digits, and the digits themselves
    "punctuation below the digits": [
        [("k", "x"), ("k#", "x"), ("k-", "x"), ("k/", "x"), ("k9", "x")],
        [("k!", "x"), ("k$", "x"), ("k,", "x"), ("k.", "x"), ("k0", "x"), ("k10", "x")]],
    # an id ending in ',[' makes ',["' (a posting boundary's look) with its closing quote
    "id ending in ',['": [[("a", "x"), ("k,[", "x")], [("b", "x"), ("z,[", "x")]],
    "id ending in ',[', disjoint": [[("a", "x"), ("k,[", "x")], [("z", "x")]],
    # a doc id that ends one piece starts the next: one posting, tf summed, positions merged
    # (its positions 9 and 10 merge as numbers, not as text)
    "shared boundary id": [[("a", "x"), ("b", "y " * 9 + "x")],
                           [("b", "y " * 10 + "x"), ("c", "x")]],
    "shared boundary, three pieces": [[("d1", "x")], [("d1", "y x"), ("d2", "x")],
                                      [("d2", "x x"), ("d3", "x")]],
    # the exact merge (a repeated id, or an escaped one) with non-ASCII ids: UTF-8 out
    "non-ASCII repeated id": [[("é", "x"), ("ü", "x")], [("é", "y x"), ("東京", "x")]],
    "non-ASCII with escapes": [[('q"é', "x"), ("ж", "x")], [("a", "x"), ("q\\ü", "x"),
                                                           ("🙂", "x")]],
    "interleaved three ways": [[("a", "x"), ("e", "x")], [("b", "x"), ("f", "x")],
                               [("c", "x"), ("d", "x")]],
}


ENGINES = ["python", pytest.param("arrow", marks=pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None, reason="needs pyarrow"))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("batches", list(CASES.values()), ids=list(CASES))
def test_overlapping_pieces_merge_as_the_reference(tmp_path, batches, engine):
    """Text runs (python engine) and Arrow runs (arrow engine: disjoint pieces joined by
    Arrow kernels, overlapping ones handed to the per-term merge) alike."""
    data, size = corpus(batches)
    (tmp_path / "in.tsv").write_bytes(data)
    build_index([str(tmp_path / "in.tsv")], str(tmp_path / "idx"), Analyzer(), jobs=1,
                batch_bytes=size, parts=1, engine=engine)
    assert read_index_lines(tmp_path / "idx") == reference_lines(data)


@pytest.mark.parametrize("engine", ENGINES)
def test_stored_texts_of_a_repeated_id_across_batches(tmp_path, engine):
    """--store-text: a doc_id in two batches has two stored-text pieces (keyed by text
    blob, not by doc_id), merged as the streaming reducer merges them."""
    data, size = corpus([[("a", "x y"), ("b", "y")], [("a", "z"), ("c", "x")]])
    (tmp_path / "in.tsv").write_bytes(data)
    analyzer = Analyzer.from_options(None, False, 1, None, True)
    build_index([str(tmp_path / "in.tsv")], str(tmp_path / "idx"), analyzer, jobs=1,
                batch_bytes=size, parts=1, engine=engine)
    build_index([str(tmp_path / "in.tsv")], str(tmp_path / "ref"), analyzer, runner="pipe")
    assert read_index_lines(tmp_path / "idx") == read_index_lines(tmp_path / "ref")


@pytest.mark.parametrize("run_batch_bytes", [1, 64, 1 << 20])
def test_arrow_merge_reads_runs_a_batch_at_a_time(tmp_path, monkeypatch, run_batch_bytes):
    """Run files cut into record batches of any size (one line each, a few, all): the
    merge, which holds every key up to the live runs' smallest last key, gives the
    reference index."""
    pytest.importorskip("pyarrow")
    from invindex.runners import invert_arrow

    monkeypatch.setattr(invert_arrow, "RUN_BATCH_BYTES", run_batch_bytes)
    batches = [[(f"d{i:03d}", f"w{i % 7} w{i % 3} common") for i in range(j, 60, 3)]
               for j in range(3)]
    data, size = corpus(batches)
    (tmp_path / "in.tsv").write_bytes(data)
    build_index([str(tmp_path / "in.tsv")], str(tmp_path / "idx"), Analyzer(), jobs=1,
                batch_bytes=size, parts=2, engine="arrow")
    assert read_index_lines(tmp_path / "idx") == reference_lines(data)


def test_corpus_cuts_at_the_batch_size():
    data, size = corpus([[("a", "x"), ("c", "x")], [("a!", "x")]])
    assert size == 8 and data == b"a\tx\nc\tx\na!\tx   \n"
