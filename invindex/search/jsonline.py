"""A term's index line (a part's JSON, DESIGN.md "Index output") to ``TermArrays`` at
numpy speed, with the same refusals as the reader's line check.

Decoding a frequent term's line with ``json.loads``, checking it (``integrity``) and
turning the lists into arrays cost a directory search 10-100 ms a term. Here
the vectorized parser (``canonical.parse_postings``) reads the numbers, and
the line is accepted only when it is provably the canonical line the check accepts:
its skeleton (strings as ``s``, each number as ``0``) is byte for byte the one its
counts give, no number has a leading zero, every string is a known doc_id's canonical
encoding, doc numbers ascend, ``tf >= 1`` and, with positions, tf positions each,
non-decreasing. Anything else is None: the caller takes the careful route
(``IndexReader.check_line``, which names the damage, then ``json``).
"""

from __future__ import annotations

import json
import re
from typing import Dict, Iterable

import numpy as np

from .canonical import parse_postings
from .termarrays import TermArrays

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')  # what json.dumps escapes (ensure_ascii off)
_ZERO, _COMMA = ord("0"), ord(",")
_HEAD = np.frombuffer(b"[s,0,[", np.uint8)


def json_numbers(ids: Iterable[str]) -> Dict[bytes, int]:
    """``{doc_id as it is written between quotes in a part: its number}`` for doc_ids
    in number order (what ``parse_postings`` looks doc_ids up in)."""
    out: Dict[bytes, int] = {}
    for i, d in enumerate(ids):
        if _NEEDS_ESCAPE.search(d):  # rare: let json say how it is written
            out[json.dumps(d, ensure_ascii=False).encode("utf-8")[1:-1]] = i
        else:
            out[d.encode("utf-8")] = i
    return out


def line_arrays(line: bytes, number: Dict[bytes, int], positions: bool
                ) -> TermArrays | None:
    """The arrays of a whole stored line ``term<TAB>{...}\\n``, or None when it is not
    certainly a canonical, consistent line (see the module docstring)."""
    tab = line.find(b"\t")
    if tab < 1 or not line.endswith(b"\n"):
        return None
    payload = line[tab + 1:-1]
    parsed = parse_postings(payload, number)
    if parsed is None:
        return None
    docs, tfs, counts, pos = parsed
    if not len(docs) or (docs[1:] <= docs[:-1]).any() or (tfs < 1).any():
        return None
    offsets = np.zeros(len(docs) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    if positions:
        if (counts != tfs).any():
            return None
        down = pos[1:] < pos[:-1]
        down[offsets[1:-1] - 1] = False  # a posting's first position follows another's
        if down.any():
            return None
    elif len(pos):
        return None
    if not _skeleton_ok(payload, len(docs), counts if positions else None):
        return None
    return TermArrays(docs.astype(np.int64), tfs.astype(np.float64), offsets,
                      pos.astype(np.int64))


def _skeleton_ok(payload: bytes, n: int, counts: np.ndarray | None) -> bool:
    """Whether the payload, strings written ``s`` and numbers ``0``, is exactly
    ``{s:0,s:[`` postings ``]}`` with ``[s,0,[0,...,0]]`` (``counts`` positions each) or
    ``[s,0]`` (no positions), ``n`` of them, and no number has a leading zero."""
    if b"\\" in payload:
        skeleton = _STRING.sub(b"s", payload)
    else:  # no escapes: every other piece between quotes is a string
        pieces = payload.split(b'"')
        if not len(pieces) % 2:  # an odd number of quotes
            return False
        skeleton = b"s".join(pieces[0::2])
    a = np.frombuffer(skeleton, np.uint8)
    digit = (a >= 48) & (a <= 57)
    first = digit.copy()
    first[1:] &= ~digit[:-1]
    if (first[:-1] & (a[:-1] == _ZERO) & digit[1:]).any():
        return False
    keep = ~digit | first
    got = np.where(digit[keep], np.uint8(_ZERO), a[keep])
    return np.array_equal(got, _expected(n, counts))


def _expected(n: int, counts: np.ndarray | None) -> np.ndarray:
    """The skeleton of a canonical payload of ``n`` postings."""
    if counts is None:
        return np.frombuffer(b"{s:0,s:[" + b",".join([b"[s,0]"] * n) + b"]}", np.uint8)
    # Each posting is "[s,0,[" + "0," * (c - 1) + "0]]" + "," : 2c + 8 bytes, so every
    # posting starts at an even offset and its positions alternate 0 (even), "," (odd).
    size = 2 * counts.astype(np.int64) + 8
    start = 8 + np.concatenate(([0], np.cumsum(size)[:-1]))
    out = np.empty(9 + int(size.sum()), np.uint8)
    out[0::2], out[1::2] = _ZERO, _COMMA
    out[:8] = np.frombuffer(b"{s:0,s:[", np.uint8)
    out[start[:, None] + np.arange(6)] = _HEAD
    end = start + size
    out[end - 3] = out[end - 2] = ord("]")
    out[-2:] = np.frombuffer(b"]}", np.uint8)
    return out
