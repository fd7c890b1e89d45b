"""Map, combine and reduce: the inverted-index job as pure functions over lines.

Intermediate line (mapper output): ``term<TAB>doc_id<TAB>tf<TAB>p1,p2,...`` (the last
field empty without positions). The shuffle sorts on ``(term, doc_id)`` in byte order,
so a reducer sees each term's postings already in doc_id order and only appends: its
memory is the output line it is building, however long the posting list.

Index line (reducer output): ``term<TAB>{"df":N,"postings":[[doc_id,tf,[p,...]],...]}``,
compact canonical JSON (no spaces, UTF-8 rather than ``\\u`` escapes).
"""

from __future__ import annotations

import json
from typing import Iterable, Iterator, List, Tuple

from .analysis import Analyzer
from .doctable import doc_table_line, stored_text_line

_dumps_str = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# What that encoder does for a str, without its per-call Python wrapper (the reducer's
# hot path calls it once per posting).
_encode_str = json.encoder.encode_basestring


class UnsortedInputError(ValueError):
    """The reducer's input is not in byte order of (term, doc_id)."""


class MalformedIntermediateError(ValueError):
    """A line that is not ``term<TAB>doc_id<TAB>tf<TAB>positions``."""


SORT_HINT = ("reducer input is not sorted in byte order: sort with LC_ALL=C "
             "(e.g. `LC_ALL=C sort`); a locale-aware sort orders lines differently")


# -- map -----------------------------------------------------------------------------
def map_record(analyzer: Analyzer, doc_id: str, text: str) -> Tuple[List[str], int]:
    """Intermediate lines (no newline) for one record, and its number of indexed tokens:
    its terms', then its document-table line (and its stored text, if kept)."""
    tp = analyzer.term_position_texts(text)
    mid = f"\t{doc_id}\t"
    if analyzer.positions:
        out = [f"{term}{mid}{len(ps)}\t{','.join(ps)}" for term, ps in tp.items()]
    else:
        out = [f"{term}{mid}{len(ps)}\t" for term, ps in tp.items()]
    tokens = sum(map(len, tp.values()))
    out.append(doc_table_line(doc_id, tokens))
    if analyzer.store_text:
        out.append(stored_text_line(doc_id, text))
    return out, tokens


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


def _merge_positions(a: str, b: str) -> str:
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
                cur = (doc_id, cur[1] + tf, _merge_positions(cur[2], pos))
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


def reduce_groups(lines: Iterable[str],
                  batch: int = 2048) -> Iterator[Tuple[str, int, List[str]]]:
    """``(term, df, chunks)`` per term from sorted intermediate lines; checks the order.

    The streaming reducer's hot path, so one flat loop: a line is split once, its
    posting encoded at once and replaced in the rare case that the next line repeats
    its doc_id (``merge_postings``' rule). Every ``batch`` postings are joined into
    one chunk, so a long posting list is held as about its output line.
    """
    enc = _encode_str
    term: str | None = None
    df = 0
    chunks: List[str] = []
    pending: List[str] = []
    prev_doc = prev_line = ""  # prev_line: the last posting, as a line (merged if so)
    for line in lines:
        try:
            t, doc, tf_s, pos = line.split("\t")
            tf = int(tf_s)
        except ValueError:  # the message split_intermediate/split_value give, in order
            t = split_intermediate(line)[0]
            if t != term and term is not None:
                if pending:
                    chunks.append(",".join(pending))
                yield term, df, chunks
                if t < term:
                    raise UnsortedInputError(SORT_HINT) from None
            split_value(line[len(t) + 1:])
            raise  # pragma: no cover - split_value raised
        if t != term:
            if term is not None:
                if pending:
                    chunks.append(",".join(pending))
                yield term, df, chunks
                if t < term:
                    raise UnsortedInputError(SORT_HINT)
            term, df, chunks, pending = t, 0, [], []
        elif doc <= prev_doc:
            if doc < prev_doc:
                raise UnsortedInputError(SORT_HINT)
            _, _, ptf, ppos = prev_line.split("\t")
            tf += int(ptf)
            pos = _merge_positions(ppos, pos)
            pending[-1] = encode_posting(doc, tf, pos)
            prev_line = f"{t}\t{doc}\t{tf}\t{pos}"
            continue
        prev_doc = doc
        prev_line = line
        if pos:
            pending.append(f"[{enc(doc)},{tf},[{pos}]]")
        else:
            pending.append(f"[{enc(doc)},{tf}]")
        df += 1
        if len(pending) > batch:  # keep the last: the next line may repeat its doc_id
            chunks.append(",".join(pending[:-1]))
            del pending[:-1]
    if term is not None:
        if pending:
            chunks.append(",".join(pending))
        yield term, df, chunks


def reduce_lines(lines: Iterable[str]) -> Iterator[str]:
    """Index lines from sorted intermediate lines (no newlines); checks the sort order.

    Values stream through ``reduce_groups``, so what is held is the encoded output
    line, never the term's raw values as well.
    """
    for term, df, chunks in reduce_groups(lines):
        yield line_head(term, df) + ",".join(chunks) + LINE_TAIL
