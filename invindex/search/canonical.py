"""Canonical index lines read with array operations, not a Python object per number.

The index's JSON is canonical (DESIGN.md: compact, keys ``df`` then ``postings``, no
escapes but those JSON needs), so a payload can be read by its bytes: its strings are
the doc ids, and every number's role follows from the byte before it. Both readers of
part files that need arrays use this: a search over an index directory
(``search.jsonline``) and ``publish``'s conversion to a store's layout
(``stores.layout``). Anything not in the canonical shape is answered with None, and the
caller takes the careful route (``json.loads``).
"""

from __future__ import annotations

import re
from typing import Dict, Sequence, Tuple

import numpy as np

_I4 = np.dtype("<i4")

STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a JSON string (doc ids, the two keys)
COLON, COMMA, OPEN = ord(":"), ord(","), ord("[")
QUOTE = ord('"')
HEAD_WORDS = np.frombuffer(b"df".ljust(8, b"\0") + b"postings", "<u8")  # the two keys


def parse_postings(payload: bytes, number: Dict[bytes, int]
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """``docs, tfs, counts, positions`` of a canonical payload without building a Python
    object per number: doc ids are its JSON strings; with them removed a posting reads
    ``[,TF,[P,P]]`` (or ``[,TF]``), so a number after ``[,`` is a tf, after ``:`` the df,
    and any other a position. None when the payload is not in that shape."""
    if b"\\" in payload:  # an escape inside some string: the careful route
        strings = [x[1:-1] for x in STRING.findall(payload)]
        rest = STRING.sub(b"", payload)
    else:  # no escapes: every other piece between quotes is a string (much faster)
        parts = payload.split(b'"')
        strings, rest = parts[1::2], b"".join(parts[0::2])
    if strings[:2] != [b"df", b"postings"]:
        return None
    try:
        docs = np.array(list(map(number.__getitem__, strings[2:])), _I4)
    except KeyError:
        return None
    runs = number_runs(rest)
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


def number_runs(rest: bytes) -> Tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The numbers in ``rest`` (payloads with their strings removed), and which are a
    df (after ``:``) and which a tf (after ``[,``); None when there are none, one has
    more than 9 digits, or ``rest`` starts or ends with one (no canonical payload does)."""
    a = np.frombuffer(rest, np.uint8)
    d = a - np.uint8(48)  # a digit's value; any other byte 10 or more
    isdigit = d < 10
    if not len(a) or isdigit[0] or isdigit[-1]:
        return None
    starts = np.flatnonzero(isdigit[1:] > isdigit[:-1]) + 1
    if not len(starts) or starts[0] < 2:
        return None
    lengths = np.flatnonzero(isdigit[:-1] > isdigit[1:]) + 1 - starts
    if lengths.max() > 9:
        return None
    # Horner's rule, a digit place at a time, over the numbers that still have one (most
    # have one or two: far less work than an array entry per digit)
    vals = d[starts].astype(np.int64)
    more, k = np.flatnonzero(lengths > 1), 1
    while len(more):
        vals[more] = vals[more] * 10 + d[starts[more] + k]
        k += 1
        more = more[lengths[more] > k]
    prev, prev2 = a[starts - 1], a[starts - 2]
    return vals, prev == COLON, (prev == COMMA) & (prev2 == OPEN)


def windows(a: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int
             ) -> np.ndarray:
    """The strings at ``starts`` (``lengths`` bytes each, none longer than ``width``) as
    rows of ``width`` bytes, zero-padded: ``a`` must end with ``width`` spare bytes."""
    rows = np.lib.stride_tricks.sliding_window_view(a, width)[starts]
    rows[np.arange(width) >= lengths[:, None]] = 0
    return rows


def _hash(words: np.ndarray) -> np.ndarray:
    """One uint64 per row of uint64 words (a multiply-xorshift fold; its top bits pick
    a slot)."""
    h = np.zeros(len(words), np.uint64)
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    return h


class IdTable:
    """Doc ids' JSON forms to document numbers, many at a time without a Python object
    per string (a dict lookup per posting was half the conversion's CPU): each id is
    zero-padded to a whole number of 8-byte words and hashed into an open-addressing
    table (linear probing, at most a quarter full), and what a probe finds is then
    compared word for word: a hash is never trusted."""

    def __init__(self, json_ids: Sequence[bytes]) -> None:
        self.width = 8 * max(1, -(-max(map(len, json_ids), default=1) // 8))
        lengths = np.fromiter(map(len, json_ids), np.int64, len(json_ids))
        starts = np.zeros(len(json_ids), np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        a = np.frombuffer(b"".join(json_ids) + bytes(self.width), np.uint8)
        self.words = windows(a, starts, lengths, self.width).view("<u8")
        self.bits = max(4, (4 * len(json_ids) - 1).bit_length())
        self.slots = np.full(1 << self.bits, -1, _I4)
        todo = np.arange(len(json_ids))
        slot = self._slot(_hash(self.words))
        while len(todo):  # each round: one id into each free slot wanted, the rest move on
            free = self.slots[slot] < 0
            wanted, first = np.unique(slot[free], return_index=True)
            self.slots[wanted] = todo[free][first]
            placed = np.zeros(len(todo), bool)
            placed[np.flatnonzero(free)[first]] = True
            todo, slot = todo[~placed], (slot[~placed] + 1) & self.mask

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1

    def _slot(self, hashes: np.ndarray) -> np.ndarray:
        return (hashes >> np.uint64(64 - self.bits)).astype(np.int64)

    def find(self, a: np.ndarray, starts: np.ndarray, lengths: np.ndarray
             ) -> np.ndarray | None:
        """The numbers of the ids at ``starts`` in ``a`` (which ends with ``width``
        spare bytes); None when any is not an id."""
        if len(lengths) and lengths.max() > self.width:
            return None
        words = windows(a, starts, lengths, self.width).view("<u8")
        slot = self._slot(_hash(words))
        found = self.slots[slot]
        todo = np.flatnonzero((found >= 0) & (self.words[found] != words).any(axis=1))
        while len(todo):  # probed a slot that holds another id: try the next one
            slot[todo] = (slot[todo] + 1) & self.mask
            found[todo] = self.slots[slot[todo]]
            look = found[todo]
            todo = todo[(look >= 0) & (self.words[look] != words[todo]).any(axis=1)]
        return None if (found < 0).any() else found
