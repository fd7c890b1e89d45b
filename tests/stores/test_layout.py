"""The store's binary term layout: every encoding route gives the same bytes, and the
index's own JSON line comes back byte for byte (what ``lookup`` prints)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from invindex.core.postings import LINE_TAIL, encode_posting, line_head
from invindex.search import canonical
from invindex.stores import layout

IDS = sorted({"d1", 'q"uote', "back\\slash", "é", "日本", "tab-free", "x" * 40} |
             {f"doc{i}" for i in range(300)})


def payload(rng: random.Random, positions: bool) -> str:
    chosen = sorted(rng.sample(IDS, rng.randint(1, len(IDS))))
    parts = []
    for d in chosen:
        ps = sorted(rng.sample(range(0, 10**6 if rng.random() < 0.1 else 50),
                               rng.randint(1, 6)))
        parts.append(encode_posting(d, len(ps), ",".join(map(str, ps)) if positions else ""))
    return (line_head("t", len(chosen)) + ",".join(parts) + LINE_TAIL).partition("\t")[2]


@pytest.mark.parametrize("positions", [True, False])
@pytest.mark.parametrize("seed", range(20))
def test_vectorized_small_and_json_routes_agree(positions, seed, monkeypatch):
    rng = random.Random(seed)
    text = payload(rng, positions)
    small, big = layout.Encoder(IDS), layout.Encoder(IDS)
    monkeypatch.setattr(layout, "SMALL", 0)  # force the vectorized parser
    fast = canonical.parse_postings(text.encode(), big.json_number)
    assert fast is not None
    slow = big._slow(text)
    assert all((a == b).all() for a, b in zip(fast, slow, strict=True))
    blob = big.term(text)
    assert blob == small._small(text)
    assert (big.ends == small.ends).all()
    assert layout.json_line("t", blob, IDS, positions) == "t\t" + text


def test_unexpected_shape_falls_back_to_json():
    enc = layout.Encoder(IDS)
    assert canonical.parse_postings(b'{"postings":[],"df":0}', enc.json_number) is None
    assert canonical.parse_postings(b'{"df":1,"postings":[["nope",1]]}', enc.json_number) is None


@pytest.mark.parametrize("positions", [True, False])
def test_lists_parsed_together_give_the_same_bytes(positions):
    """``Encoder.block`` parses a block's lists in one pass (``parse_many``); each blob
    and every document's span equal the one-at-a-time route's, and a line with an
    escaped id in it takes that route instead."""
    rng = random.Random(7)
    lines = [f"t{i:04d}\t{payload(rng, positions)}" for i in range(300)]
    lines.insert(5, '!abc\t{"postings":[]}')  # not a term: passed through as is
    clean = [ln for ln in lines if "\\" not in ln]
    assert len(clean) > 20 and len(clean) < len(lines)
    raw = [ln.partition("\t")[2].encode() for ln in clean if ln[0] != "!"]
    assert layout.parse_many(raw, layout.Encoder(IDS).table,
                             layout.Encoder(IDS).ends) is not None  # the one-pass route
    for group in (clean, lines):
        together, single = layout.Encoder(IDS), layout.Encoder(IDS)
        want = [(ln.partition("\t")[0], ln.partition("\t")[2].encode() if ln[0] == "!"
                 else single.term(ln.partition("\t")[2]), len(ln.encode()) + 1)
                for ln in group]
        assert together.rows(group) == want
        assert (together.ends == single.ends).all()


def test_id_table_finds_every_id_when_all_hashes_collide(monkeypatch):
    """The doc-id table probes past slots that hold another id (here every id hashes
    alike, so each lookup walks the chain) and refuses a string that is no id."""
    monkeypatch.setattr(canonical, "_hash", lambda words: np.zeros(len(words), np.uint64))
    forms = [layout.encode_basestring(d)[1:-1].encode() for d in IDS]
    table = canonical.IdTable(forms)
    for probe in (forms, forms[::-1], [b"d1", b"x" * 40, b"doc7"]):
        buf = b"".join(probe)
        starts = np.cumsum([0] + [len(f) for f in probe[:-1]])
        lengths = np.array([len(f) for f in probe])
        a = np.frombuffer(buf + bytes(table.width), np.uint8)
        assert table.find(a, starts, lengths).tolist() == [forms.index(f) for f in probe]
    a = np.frombuffer(b"doc7doc9x" + bytes(table.width), np.uint8)
    assert table.find(a, np.array([0, 4, 8]), np.array([4, 4, 1])) is None  # "x"
    wide = np.frombuffer(b"y" * 60 + bytes(table.width), np.uint8)
    assert table.find(wide, np.array([0]), np.array([60])) is None  # wider than any id
    raw = [f'{{"df":1,"postings":[["{d}",1,[3]]]}}'.encode() for d in ("d1", "zz")]
    assert layout.parse_many(raw, table, np.zeros(len(IDS), np.int64)) is None


def test_parse_many_refuses_what_is_not_canonical():
    enc = layout.Encoder(IDS)
    for bad in (b'{"postings":[],"df":0}', b'{"df":1,"postingsX":[["d1",1]]}',
                b'{"df":2,"postings":[["d1",1]]}', b'{"df":1,"postings":[["d1",1],["q",2]]}'):
        assert layout.parse_many([bad], enc.table, enc.ends) is None, bad
    assert not enc.ends.any()
