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
import struct
import sys
from array import array
from functools import cached_property
from itertools import chain
from json.encoder import encode_basestring
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np

from ..core.doctable import is_term
from ..core.postings import LINE_TAIL, encode_posting, line_head
from ..search.canonical import HEAD_WORDS, QUOTE, IdTable, number_runs, parse_postings, windows
from ..search.termarrays import EMPTY, PositionSpace, TermArrays

SPACE_KEY = "@space"  # never a term, a document-table or a stored-text key
_I4, _I8 = np.dtype("<i4"), np.dtype("<i8")


def doc_numbers(doc_table_lines: Iterable[str]) -> List[str]:
    """The doc_ids in code point order (a document's number is its index)."""
    ids: List[str] = []
    for line in doc_table_lines:
        ids.extend(p[0] for p in json.loads(line.partition("\t")[2])["postings"])
    ids.sort()
    return ids


SMALL = 20_000  # payload characters below which one list is parsed in plain Python


def parse_many(payloads: List[bytes], table: IdTable, ends: np.ndarray
               ) -> List[bytes] | None:
    """The blobs of several canonical payloads, parsed together (one pass of array
    operations over their concatenation, however many); each document's span updated in
    ``ends``. None, with ``ends`` untouched, when any payload is not in the canonical shape
    or names an unknown id (the caller then takes them one by one)."""
    if not payloads:
        return []
    buf = b"".join(payloads)
    if b"\\" in buf:
        return None
    padded = np.frombuffer(buf + bytes(max(8, table.width)), np.uint8)  # for windows
    a = padded[:len(buf)]
    quotes = np.flatnonzero(a == QUOTE)
    if len(quotes) % 2:
        return None
    opens, closes = quotes[0::2], quotes[1::2]
    inside = np.zeros(len(a) + 1, np.int8)  # 1 from each opening quote to its closing one
    inside[opens] = 1
    inside[closes + 1] = -1
    rest = a[np.cumsum(inside[:-1], dtype=np.int8) == 0]
    runs = number_runs(rest.tobytes())
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
    if len(opens) != 2 * n_payloads + total:
        return None
    starts, lengths = opens + 1, closes - opens - 1
    head = np.concatenate((first, first + 1))
    if ((lengths[first] != 2).any() or (lengths[first + 1] != 8).any()
            or not np.array_equal(windows(padded, starts[head], lengths[head], 8)
                                  .view("<u8")[:, 0], np.repeat(HEAD_WORDS, n_payloads))):
        return None
    keep = np.ones(len(opens), bool)
    keep[head] = False
    docs = table.find(padded, starts[keep], lengths[keep])
    if docs is None:
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


Row = Tuple[str, bytes, int]


class Encoder:
    """Index lines in, ``(key, bytes, line size)`` rows out; ``space()`` once every term
    is in. ``block`` takes whole lines as bytes (what publishing reads from the parts)."""

    def __init__(self, ids: Sequence[str], table: IdTable | None = None) -> None:
        """``table``: the ids' ``IdTable`` when one was built already (a worker gets the
        publishing process's)."""
        self.ids = ids
        self.table = table or IdTable([encode_basestring(d)[1:-1].encode("utf-8")
                                       for d in ids])
        self.ends = np.zeros(len(ids), np.int64)

    @cached_property
    def number(self) -> Dict[str, int]:
        return {d: i for i, d in enumerate(self.ids)}

    @cached_property
    def json_number(self) -> Dict[bytes, int]:
        return {encode_basestring(d)[1:-1].encode("utf-8"): i for i, d in enumerate(self.ids)}

    def rows(self, lines: Iterable[str]) -> List[Row]:
        """``block`` over ``lines`` (str, without their newlines)."""
        return self.block("".join(line + "\n" for line in lines).encode("utf-8"))

    def block(self, data: bytes) -> List[Row]:
        """A row per line of ``data`` (whole lines, each ending with a newline but
        perhaps the last): the canonical term lines parsed together in one pass
        (``parse_many``); one with an escaped id in it, or a group that is not
        canonical, one at a time."""
        lines = data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        split = [line.partition(b"\t") for line in lines]
        keys = [k.decode("utf-8") for k, _, _ in split]
        terms = [i for i, key in enumerate(keys) if is_term(key)]
        plain = [i for i in terms if b"\\" not in split[i][2]]
        blobs: Dict[int, bytes] = {}
        together = parse_many([split[i][2] for i in plain], self.table, self.ends)
        if together is not None:
            blobs = dict(zip(plain, together, strict=True))
        rows = []
        for i, (key, (_, _, payload)) in enumerate(zip(keys, split, strict=True)):
            data_ = blobs.get(i)
            if data_ is None:
                data_ = self.term(payload.decode("utf-8")) if is_term(key) else payload
            rows.append((key, data_, len(lines[i]) + 1))
        return rows

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
