"""Combine and reduce one term: the inverted-index job's postings as pure functions.

Intermediate line (mapper output, ``mapping``): ``term<TAB>doc_id<TAB>tf<TAB>p1,p2,...``
(the last field empty without positions). The shuffle sorts on ``(term, doc_id)`` in byte
order, so a reducer sees each term's postings already in doc_id order and only appends:
its memory is the output line it is building, however long the posting list.

Index line (reducer output): ``term<TAB>{"df":N,"postings":[[doc_id,tf,[p,...]],...]}``,
compact canonical JSON (no spaces, UTF-8 rather than ``\\u`` escapes). The streaming
reducer over a whole sorted stream is ``reduce_lines`` (line at a time) and
``reduce_blocks`` (a block at a time).
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import Iterable, Iterator, List, Tuple

_dumps_str = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# What that encoder does for a str, without its per-call Python wrapper (the reducer's
# hot path calls it once per posting).
encode_str = json.encoder.encode_basestring


class UnsortedInputError(ValueError):
    """The reducer's input is not in byte order of (term, doc_id)."""


class MalformedIntermediateError(ValueError):
    """A line that is not ``term<TAB>doc_id<TAB>tf<TAB>positions``."""


SORT_HINT = ("reducer input is not sorted in byte order: sort with LC_ALL=C "
             "(e.g. `LC_ALL=C sort`); a locale-aware sort orders lines differently")


# -- values: "doc_id<TAB>tf<TAB>positions" --------------------------------------------
def split_value(value: str) -> Tuple[str, int, str]:
    parts = value.split("\t")
    if len(parts) != 3:
        raise MalformedIntermediateError(f"bad intermediate value: {value[:80]!r}")
    doc_id, tf, pos = parts
    try:
        return doc_id, int(tf), pos
    except ValueError:
        raise MalformedIntermediateError(f"bad term frequency in: {value[:80]!r}") from None


def merge_positions(a: str, b: str) -> str:
    """Two position lists of one doc_id (from two records) as one, in order."""
    if not a or not b:
        return a or b
    return ",".join(map(str, sorted(int(p) for p in (a + "," + b).split(","))))


def merge_postings(values: Iterable[str]) -> Iterator[Tuple[str, int, str]]:
    """Doc-ordered ``(doc_id, tf, positions)``; repeated doc_ids merged (tf summed,
    positions merged in order), which is order-independent, so every runner agrees."""
    cur: Tuple[str, int, str] | None = None
    for value in values:
        doc_id, tf, pos = split_value(value)
        if cur is not None:
            if doc_id == cur[0]:
                cur = (doc_id, cur[1] + tf, merge_positions(cur[2], pos))
                continue
            if doc_id < cur[0]:
                raise UnsortedInputError(SORT_HINT)
            yield cur
        cur = (doc_id, tf, pos)
    if cur is not None:
        yield cur


# -- combine: same shape in and out, so it may run any number of times ---------------
def combine_term(values: Iterable[str]) -> Iterator[str]:
    for doc_id, tf, pos in merge_postings(values):
        yield f"{doc_id}\t{tf}\t{pos}"


# -- reduce --------------------------------------------------------------------------
def encode_posting(doc_id: str, tf: int, pos: str) -> str:
    if pos:
        return f"[{_dumps_str(doc_id)},{tf},[{pos}]]"
    return f"[{_dumps_str(doc_id)},{tf}]"


def reduce_term_chunks(term: str, values: Iterable[str],
                       batch: int = 2048) -> Tuple[int, List[str]]:
    """df and the encoded postings as a few large comma-joined chunks.

    Joining every ``batch`` postings keeps the memory held for a long posting list
    close to the size of its output line (a list of small strings would be ~4x).
    """
    chunks: List[str] = []
    pending: List[str] = []
    df = 0
    for doc_id, tf, pos in merge_postings(values):
        pending.append(encode_posting(doc_id, tf, pos))
        df += 1
        if len(pending) >= batch:
            chunks.append(",".join(pending))
            pending = []
    if pending:
        chunks.append(",".join(pending))
    return df, chunks


def line_head(term: str, df: int) -> str:
    return f'{term}\t{{"df":{df},"postings":['


LINE_TAIL = "]}"


def reduce_term(term: str, values: Iterable[str]) -> str:
    """One index line for ``term`` from its doc-ordered values."""
    df, chunks = reduce_term_chunks(term, values)
    return line_head(term, df) + ",".join(chunks) + LINE_TAIL


def split_intermediate(line: str) -> Tuple[str, str]:
    """``term``, ``doc_id<TAB>tf<TAB>positions`` from one intermediate line."""
    term, tab, value = line.partition("\t")
    if not tab:
        raise MalformedIntermediateError(f"bad intermediate line: {line[:80]!r}")
    return term, value
