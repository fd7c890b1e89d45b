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
from itertools import chain, compress, islice
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
SMALL = 20_000  # payload characters below which terms are parsed together (parse_many)
GROUP = 2048  # lines whose short postings lists are parsed in one pass
_DF, _POSTINGS = b"df", b"postings"


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
    runs = _number_runs(rest)
    if runs is None:
        return None
    vals, is_df, is_tf = runs
    tf_at = np.flatnonzero(is_tf)
    if is_df.sum() != 1 or not is_df[0] or len(tf_at) != len(docs) or vals[0] != len(docs):
        return None
    is_pos = ~(is_tf | is_df)
    seen = np.concatenate(([0], np.cumsum(is_pos)))  # positions among the first j runs
    nxt = np.append(tf_at[1:], len(vals))
    counts = (seen[nxt] - seen[tf_at + 1]).astype(_I4)
    return docs, vals[is_tf].astype(_I4), counts, vals[is_pos].astype(_I4)


def _number_runs(rest: bytes) -> Tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The numbers in ``rest`` (payloads with their strings removed), and which are a
    df (after ``:``) and which a tf (after ``[,``); None when there are none, or one has
    more than 9 digits."""
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
    return vals, prev == _COLON, (prev == _COMMA) & (prev2 == _OPEN)


def parse_many(payloads: List[bytes], number: Dict[bytes, int], ends: np.ndarray
               ) -> List[bytes] | None:
    """The blobs of several canonical payloads, parsed together; None when any is not in
    the canonical shape (the caller then takes them one by one)."""
    buf = b"".join(payloads)
    if b"\\" in buf:
        return None
    parts = buf.split(b'"')
    strings, rest = parts[1::2], b"".join(parts[0::2])
    runs = _number_runs(rest)
    if runs is None:
        return None
    vals, is_df, is_tf = runs
    df_at, tf_at = np.flatnonzero(is_df), np.flatnonzero(is_tf)
    n_payloads = len(payloads)
    if len(df_at) != n_payloads or df_at[0] != 0:
        return None
    n = vals[df_at]
    # each payload's df is followed by exactly df tf runs, before the next payload's df
    if not np.array_equal(np.diff(np.searchsorted(tf_at, np.append(df_at, len(vals)))), n):
        return None
    total = int(n.sum())
    # strings: per payload "df", "postings", then its df doc ids
    first = 2 * np.arange(n_payloads) + np.concatenate(([0], np.cumsum(n)[:-1]))
    if len(strings) != 2 * n_payloads + total:
        return None
    firsts = first.tolist()
    if any(strings[i] != _DF or strings[i + 1] != _POSTINGS for i in firsts):
        return None
    keep = np.ones(len(strings), bool)
    keep[first] = False
    keep[first + 1] = False
    try:
        docs = np.fromiter(map(number.__getitem__, compress(strings, keep.tolist())),
                           _I4, total)
    except KeyError:
        return None
    is_pos = ~(is_tf | is_df)
    seen = np.concatenate(([0], np.cumsum(is_pos)))
    boundary = np.flatnonzero(~is_pos)  # df and tf runs, in order
    nxt = np.append(boundary[1:], len(vals))
    of_tf = is_tf[boundary]
    counts = (seen[nxt[of_tf]] - seen[boundary[of_tf] + 1]).astype(_I4)
    of_df = ~of_tf
    if (seen[nxt[of_df]] - seen[boundary[of_df] + 1]).any():  # a number where none goes
        return None
    tfs = vals[is_tf].astype(_I4)
    pos = vals[is_pos].astype(_I4)
    q = np.zeros(total + 1, np.int64)
    np.cumsum(counts, out=q[1:])
    has = counts > 0
    if has.any():
        np.maximum.at(ends, docs[has], pos[(q[1:] - 1)[has]].astype(np.int64) + 1)
    p_off = np.concatenate(([0], np.cumsum(n))).tolist()
    q_at = q[p_off].tolist()
    db, tb, cb, pb = docs.tobytes(), tfs.tobytes(), counts.tobytes(), pos.tobytes()
    out = []
    for i in range(n_payloads):
        lo, hi, qlo, qhi = p_off[i], p_off[i + 1], q_at[i], q_at[i + 1]
        out.append(b"".join((struct.pack("<qq", hi - lo, qhi - qlo), db[4 * lo:4 * hi],
                             tb[4 * lo:4 * hi], cb[4 * lo:4 * hi], pb[4 * qlo:4 * qhi])))
    return out


class Encoder:
    """Index lines in, ``(key, bytes)`` rows out; ``space()`` once every term is in."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.number: Dict[str, int] = {d: i for i, d in enumerate(ids)}
        self.json_number: Dict[bytes, int] = {
            _dumps_str(d).encode("utf-8")[1:-1]: i for i, d in enumerate(ids)}
        self.ends = np.zeros(len(ids), np.int64)

    def rows(self, lines: Iterable[str]) -> Iterator[Tuple[str, bytes, int]]:
        """``(key, payload, size of the original line)`` for each line."""
        it = iter(lines)
        while group := list(islice(it, GROUP)):
            yield from self._rows(group)

    def _rows(self, lines: List[str]) -> Iterator[Tuple[str, bytes, int]]:
        split = [line.partition("\t") for line in lines]
        short = [i for i, (key, _, payload) in enumerate(split)
                 if len(payload) < SMALL and is_term(key)]
        blobs: Dict[int, bytes] = {}
        if short:  # short lists together: numpy's per-call cost paid once for all
            raw = [split[i][2].encode("utf-8") for i in short]
            together = parse_many(raw, self.json_number, self.ends)
            if together is None:
                together = [self._small(split[i][2]) for i in short]
            blobs = dict(zip(short, together, strict=True))
        for i, (key, _, payload) in enumerate(split):
            data = blobs.get(i)
            if data is None:
                data = self.term(payload) if is_term(key) else payload.encode("utf-8")
            yield key, data, len(lines[i]) + 1

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
