"""How a store keeps a term's postings: binary arrays a search reads without parsing.

Decoding a frequent term's JSON line costs up to a second; a store is for serving, so
``publish`` converts each term's postings once into little-endian int32 arrays over
document numbers (doc_ids in code point order, as the searcher's ``DocTable`` numbers
them): ``n, m`` (int64), then ``docs[n]``, ``tfs[n]``, ``counts[n]`` (positions per
posting) and ``positions[m]``. A term is then one key lookup and an ``np.frombuffer``.
``@space`` holds each document's position span (last position + 1, int64), from which
the reader lays all positions end to end (the searcher's ``PositionSpace``: a phrase is
a bitmap lookup). ``lookup`` and ``stats`` get the index's own JSON line back: it is
re-encoded with the reducer's functions, so the bytes are the same.
"""

from __future__ import annotations

import json
import re
import struct
import sys
from array import array
from itertools import chain
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

import numpy as np

from ..core.doctable import is_term
from ..core.postings import LINE_TAIL, _dumps_str, encode_posting, line_head
from ..search.arrays import EMPTY, PositionSpace, TermArrays

SPACE_KEY = "@space"  # never a term, a document-table or a stored-text key
_I4, _I8 = np.dtype("<i4"), np.dtype("<i8")


def doc_numbers(doc_table_lines: Iterable[str]) -> List[str]:
    """The doc_ids in code point order (a document's number is its index)."""
    ids: List[str] = []
    for line in doc_table_lines:
        ids.extend(p[0] for p in json.loads(line.partition("\t")[2])["postings"])
    ids.sort()
    return ids


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a JSON string (doc ids, the two keys)
_COLON, _COMMA, _OPEN = ord(":"), ord(","), ord("[")
_POW10 = 10 ** np.arange(10, dtype=np.int64)
SMALL = 20_000  # payload characters below which a term is encoded in plain Python


def parse_postings(payload: bytes, number: Dict[bytes, int]
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``docs, tfs, counts, positions`` of a canonical payload without building a Python
    object per number: doc ids are its JSON strings; with them removed a posting reads
    ``[,TF,[P,P]]`` (or ``[,TF]``), so a number after ``[,`` is a tf, after ``:`` the df,
    and any other a position. None when the payload is not in that shape."""
    if b"\\" in payload:  # an escape inside some string: the careful route
        strings = [x[1:-1] for x in _STRING.findall(payload)]
        rest = _STRING.sub(b"", payload)
    else:  # no escapes: every other piece between quotes is a string (much faster)
        parts = payload.split(b'"')
        strings, rest = parts[1::2], b"".join(parts[0::2])
    if strings[:2] != [b"df", b"postings"]:
        return None
    try:
        docs = np.array(list(map(number.__getitem__, strings[2:])), _I4)
    except KeyError:
        return None
    a = np.frombuffer(rest, np.uint8)
    isdigit = (a >= 48) & (a <= 57)
    edges = np.diff(isdigit.astype(np.int8), prepend=0, append=0)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = ends - starts
    if not len(starts) or lengths.max() > 9 or starts[0] < 2:
        return None
    # Each digit times 10 to the power of the digits after it in its run, summed by run.
    at = np.flatnonzero(isdigit)
    power = np.repeat(ends, lengths) - at - 1
    digits = (a[at].astype(np.int64) - 48) * _POW10[power]
    vals = np.add.reduceat(digits, np.concatenate(([0], np.cumsum(lengths)[:-1])))
    prev, prev2 = a[starts - 1], a[starts - 2]
    is_df = prev == _COLON
    is_tf = (prev == _COMMA) & (prev2 == _OPEN)
    tf_at = np.flatnonzero(is_tf)
    if is_df.sum() != 1 or not is_df[0] or len(tf_at) != len(docs) or vals[0] != len(docs):
        return None
    is_pos = ~(is_tf | is_df)
    seen = np.concatenate(([0], np.cumsum(is_pos)))  # positions among the first j runs
    nxt = np.append(tf_at[1:], len(starts))
    counts = (seen[nxt] - seen[tf_at + 1]).astype(_I4)
    return docs, vals[is_tf].astype(_I4), counts, vals[is_pos].astype(_I4)


class Encoder:
    """Index lines in, ``(key, bytes)`` rows out; ``space()`` once every term is in."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.number: Dict[str, int] = {d: i for i, d in enumerate(ids)}
        self.json_number: Dict[bytes, int] = {
            _dumps_str(d).encode("utf-8")[1:-1]: i for i, d in enumerate(ids)}
        self.ends = np.zeros(len(ids), np.int64)

    def rows(self, lines: Iterable[str]) -> Iterator[Tuple[str, bytes, int]]:
        """``(key, payload, size of the original line)`` for each line."""
        for line in lines:
            key, _, payload = line.partition("\t")
            data = self.term(payload) if is_term(key) else payload.encode("utf-8")
            yield key, data, len(line) + 1

    def term(self, payload: str) -> bytes:
        if len(payload) < SMALL:  # numpy's per-call cost would dominate
            return self._small(payload)
        parsed = parse_postings(payload.encode("utf-8"), self.json_number)
        docs, tfs, counts, pos = parsed if parsed is not None else self._slow(payload)
        if len(pos):
            has = counts > 0
            last = pos[np.cumsum(counts, dtype=np.int64)[has] - 1]
            d = docs[has]  # distinct within a term: plain fancy indexing, not ufunc.at
            self.ends[d] = np.maximum(self.ends[d], last.astype(np.int64) + 1)
        head = np.array([len(docs), len(pos)], _I8)
        return b"".join((head.tobytes(), docs.tobytes(), tfs.tobytes(), counts.tobytes(),
                         pos.tobytes()))

    def _small(self, payload: str) -> bytes:
        """A short posting list, in plain Python (the same bytes as ``term``)."""
        number, ends = self.number, self.ends
        docs, tfs, counts, pos = array("i"), array("i"), array("i"), array("i")
        for p in json.loads(payload)["postings"]:
            d = number[p[0]]
            docs.append(d)
            tfs.append(p[1])
            ps = p[2] if len(p) > 2 else ()
            counts.append(len(ps))
            if ps:
                pos.extend(ps)
                if ps[-1] >= ends[d]:  # positions ascend: the last is the largest
                    ends[d] = ps[-1] + 1
        parts = [docs, tfs, counts, pos]
        if sys.byteorder != "little":
            for a in parts:
                a.byteswap()
        return struct.pack("<qq", len(docs), len(pos)) + b"".join(a.tobytes() for a in parts)

    def _slow(self, payload: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The same arrays through ``json.loads`` (any valid payload)."""
        postings = json.loads(payload)["postings"]
        n = len(postings)
        docs = np.array(list(map(self.number.__getitem__, [p[0] for p in postings])), _I4)
        tfs = np.array([p[1] for p in postings], _I4)
        lists = [p[2] if len(p) > 2 else () for p in postings]
        counts = np.array(list(map(len, lists)), _I4) if n else np.zeros(0, _I4)
        return docs, tfs, counts, np.array(list(chain.from_iterable(lists)), _I4)

    def space(self) -> bytes:
        return self.ends.astype(_I8).tobytes()


def decode(blob: bytes) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n, m = (int(x) for x in np.frombuffer(blob, _I8, 2))
    a = np.frombuffer(blob, _I4, 3 * n + m, 16)
    return a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]


def position_space(blob: bytes) -> PositionSpace:
    end = np.frombuffer(blob, _I8).astype(np.int64)
    start = np.zeros(len(end), np.int64)
    if len(end):
        np.cumsum(end[:-1] + 1, out=start[1:])
    return PositionSpace(start, end, int(start[-1] + end[-1] + 1) if len(end) else 1)


def term_arrays(blob: bytes | None, space: PositionSpace | None) -> TermArrays:
    if blob is None:
        return EMPTY
    docs, tfs, counts, pos = decode(blob)
    offsets = np.zeros(len(docs) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    docs64 = docs.astype(np.int64)
    gpos = None
    if space is not None and len(pos):
        gpos = space.start[np.repeat(docs64, counts)] + pos
    return TermArrays(docs64, tfs.astype(np.float64), offsets, pos.astype(np.int64), gpos)


def json_line(term: str, blob: bytes, ids: Sequence[str], positions: bool) -> str:
    """The index's own line for ``term``, byte for byte (the reducer's encoding)."""
    docs, tfs, counts, pos = decode(blob)
    offsets = np.zeros(len(docs) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    plist = pos.tolist()
    off = offsets.tolist()
    parts = [encode_posting(ids[d], tf, ",".join(map(str, plist[off[i]:off[i + 1]]))
                            if positions else "")
             for i, (d, tf) in enumerate(zip(docs.tolist(), tfs.tolist(), strict=True))]
    return line_head(term, len(docs)) + ",".join(parts) + LINE_TAIL
