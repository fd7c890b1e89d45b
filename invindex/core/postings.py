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
import sys
from itertools import compress, islice
from operator import ge, lt, ne
from typing import Dict, Iterable, Iterator, List, Sequence, Tuple

from .analysis import Analyzer, token_lists
from .doctable import doc_table_keys, doc_table_line, key_counters, stored_text_line

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


_NUMBERS = [str(i) for i in range(1 << 12)]


def map_block(analyzer: Analyzer, doc_ids: Sequence[str], texts: Sequence[str]
              ) -> Tuple[str, int]:
    """``map_record``'s lines for many records as one text (each line ends ``\\n``; the
    records' term lines first, then their document-table lines), and their tokens.

    The streaming mapper's hot path: the block's texts tokenized at once
    (``analysis.token_lists``), then per record one compiled grouping call and one
    comprehension of f-strings (tf from a table of number texts); the document-table
    lines are glued from columns by C-level passes.
    """
    if analyzer.store_text:  # compressing the text costs more than the lines
        out: List[str] = []
        tokens = 0
        for doc_id, text in zip(doc_ids, texts):
            lines, n = map_record(analyzer, doc_id, text)
            out += lines
            tokens += n
        out.append("")
        return "\n".join(out), tokens
    group = analyzer.grouping_function()
    numbers = _NUMBERS
    short = len(numbers)  # a record of fewer tokens has no tf that large
    out = []
    dls = []
    positions = analyzer.positions
    for doc_id, toks in zip(doc_ids, token_lists(texts)):
        tp = group(toks)
        mid = f"\t{doc_id}\t"
        if not positions:
            out += [f"{term}{mid}{len(ps)}\t" for term, ps in tp.items()]
        elif len(toks) < short:
            out += [f"{term}{mid}{numbers[len(ps)]}\t{','.join(ps)}"
                    for term, ps in tp.items()]
        else:
            out += [f"{term}{mid}{len(ps)}\t{','.join(ps)}" for term, ps in tp.items()]
        dls.append(sum(map(len, tp.values())))
    table = ["", "\t", "", "\t", "", "\t\n"] * len(doc_ids)
    table[0::6] = doc_table_keys(doc_ids)
    table[2::6] = doc_ids
    table[4::6] = list(map(str, dls))
    out.append("".join(table))  # ends with its newline, as the text must
    return "\n".join(out), sum(dls)


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


# -- the streaming reducer: blocks of sorted intermediate lines -> index text -------
# Bytes a block may hold for the block-at-a-time path: anything but the separators and
# what JSON would escape in a doc_id (``"``, backslash, C0 controls).
_PLAIN_BYTES = bytes(b for b in range(256) if b >= 0x20 and b not in b'"\\')
_LINE_SEPS = b"\t\t\t\n"
# A posting as glue around its fields: ``["`` doc ``",`` tf ``,[`` positions ``]],``;
# the last posting of a term ends ``]]]}\n`` instead (or ``]]`` while the term is open).
_GLUE = ['["', "", '",', "", ",[", "", "]],"]
_GLUE_NOPOS = ['["', "", '",', "", "", "", "],"]
_END = {True: "]]]}\n", False: "]]}\n"}  # by whether the term has positions
_OPEN_END = {True: "]]", False: "]"}
# int() refuses decimals longer than this (Python 3.11, and 3.9 from 3.9.14: 4300)
_INT_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 0)() or 1 << 62


def decode_lines(chunk: bytes) -> Iterable[str]:
    """A block's lines (no newlines). A block that is not UTF-8 is decoded line by line,
    so the lines before the bad one still count and the error names it."""
    try:
        lines = chunk.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return _decoded_lines(chunk)
    if chunk.endswith(b"\n"):
        lines.pop()
    return lines


def _decoded_lines(chunk: bytes) -> Iterator[str]:
    for raw in chunk.splitlines(keepends=True):
        try:
            yield raw.decode("utf-8").rstrip("\n")
        except UnicodeDecodeError:
            raise MalformedIntermediateError(
                f"reducer input is not UTF-8: {raw[:80]!r}") from None


class Reducer:
    """Sorted intermediate lines -> index lines, fed a block of whole lines at a time.

    ``feed`` takes the bytes of whole lines; finished index lines (with newlines) pile
    up in ``out`` for the caller to write and clear; ``finish`` closes the last term.
    ``counts`` holds the job counters (``doctable.key_counters``).

    Two paths, one result. A block of plain lines (exactly three tabs each, a canonical
    tf, no byte JSON would escape, in strictly increasing (term, doc_id) order, the
    checks all C-level passes over the block) is formatted a term at a time by one
    ``%`` format per up to 256 postings: no Python code runs per line. Anything else
    (a repeated doc_id to merge, an escape, a malformed or unsorted line) goes through
    ``feed_lines``, one line at a time, which raises the errors. Both keep the same
    state between blocks: the open term's df, its finished ``chunks`` (joined every
    ``batch`` postings, so a long posting list is held as about its output line) and
    ``pending`` postings, the last of them kept apart as its line in case the next
    line repeats its doc_id.
    """

    def __init__(self, batch: int = 2048) -> None:
        self.batch = batch
        self.term: str | None = None
        self.df = 0
        self.chunks: List[str] = []
        self.pending: List[str] = []
        self.prev_doc = ""
        self.prev_line = ""  # the last posting, as a line (merged if so)
        self.counts: Dict[str, int] = {"terms": 0, "postings": 0, "table_documents": 0}
        self.out: List[str] = []

    def feed(self, block: bytes) -> None:
        if not (block.endswith(b"\n") and self._feed_plain(block)):
            self.feed_lines(decode_lines(block))

    def finish(self) -> None:
        if self.term is not None:
            self._close(self.term, self.df, self.chunks, self.pending)
            self.term = None

    def _close(self, term: str, df: int, chunks: List[str], pending: List[str]) -> None:
        if pending:
            chunks.append(",".join(pending))
        key_counters(term, df, self.counts)
        head = line_head(term, df)
        if len(chunks) == 1:
            self.out.append(f"{head}{chunks[0]}{LINE_TAIL}\n")
            return
        out = self.out  # pieces apart: a long posting list is not copied again
        out.append(head)
        for i, chunk in enumerate(chunks):
            if i:
                out.append(",")
            out.append(chunk)
        out.append(LINE_TAIL + "\n")

    def _feed_plain(self, block: bytes) -> bool:
        """The block-at-a-time path; False (nothing changed) when the block needs the
        line path."""
        seps = block.translate(None, _PLAIN_BYTES)
        n = len(seps) >> 2
        if len(seps) != 4 * n or seps.count(_LINE_SEPS) != n:
            return False  # a line without exactly 3 tabs, or a byte to escape
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            return False
        flat = text.replace("\n", "\t").split("\t")
        flat.pop()
        terms = flat[0::4]
        docs = flat[1::4]
        tfs = flat[2::4]
        tf_text = "\t" + "\t".join(tfs) + "\t"
        digits = tf_text.replace("\t", "")
        if not (digits.isascii() and digits.isdigit()) or "\t\t" in tf_text or (
                tf_text.count("\t0") != tf_text.count("\t0\t")) or (
                len(digits) > _INT_DIGITS and max(map(len, tfs)) > _INT_DIGITS):
            return False  # a tf that int() would reject or print differently
        new = [True]
        new += map(ne, islice(terms, 1, None), terms)
        starts = list(compress(range(n), new))
        heads = list(map(terms.__getitem__, starts))
        if not all(map(lt, heads, islice(heads, 1, None))):
            return False
        if not all(map(new.__getitem__, compress(
                range(1, n), map(ge, docs, islice(docs, 1, None))))):
            return False  # a doc_id repeated or out of order within a term
        term = self.term
        if term is not None and (heads[0] < term or (
                heads[0] == term and docs[0] <= self.prev_doc)):
            return False
        poss = flat[3::4]
        empty = poss.count("")
        ends = starts[1:]
        ends.append(n)
        glue = (_GLUE_NOPOS if empty == n else _GLUE) * n
        glue[1::7] = docs
        glue[3::7] = tfs
        glue[5::7] = poss
        kinds = [empty != n] * len(starts)  # per term: has positions
        if 0 < empty < n:
            for g, (a, b) in enumerate(zip(starts, ends)):
                e = poss[a:b].count("")
                if e:
                    if e != b - a:
                        return False  # positions on some postings of a term only
                    glue[7 * a + 4:7 * b:7] = [""] * e
                    glue[7 * a + 6:7 * b:7] = ["],"] * e
                    kinds[g] = False
        # Checked: from here on the block is consumed.
        out, counts = self.out, self.counts
        last = len(starts) - 1
        first = 0  # the first term that starts in this block
        if term is not None and heads[0] == term:  # the open term goes on
            if last:
                e = ends[0]
                glue[7 * e - 1] = _OPEN_END[kinds[0]]
                self.chunks.append(",".join(self.pending))
                self.chunks.append("".join(glue[:7 * e]))
                self._close(term, self.df + e, self.chunks, [])
                first = 1
        elif term is not None:
            self._close(term, self.df, self.chunks, self.pending)
        for a, b, t, p in zip(starts[first:last], ends[first:last], heads[first:last],
                              kinds[first:last]):
            glue[7 * a] = f'{t}\t{{"df":{b - a},"postings":[["'
            glue[7 * b - 1] = _END[p]
            key_counters(t, b - a, counts)
        a = starts[last]
        if first < last:
            out.append("".join(glue[7 * starts[first]:7 * a]))
        # The last term stays open (the next block may go on with it); its last posting
        # is kept apart, as its line too, in case the next line repeats its doc_id.
        if last == 0 and heads[0] == term:
            df, chunks = self.df + n, self.chunks
            chunks.append(",".join(self.pending))
        else:
            df, chunks = n - a, []
        tail = _OPEN_END[kinds[last]]
        if a < n - 1:
            glue[7 * n - 8] = tail
            chunks.append("".join(glue[7 * a:7 * n - 7]))
        glue[-1] = tail
        self.term, self.df, self.chunks = heads[last], df, chunks
        self.pending = ["".join(glue[7 * n - 7:])]
        self.prev_doc = docs[-1]
        self.prev_line = "\t".join(flat[-4:])
        return True

    def feed_lines(self, lines: Iterable[str]) -> None:
        """The line-at-a-time path (``merge_postings``' rules, error messages in the
        order ``split_intermediate``/``split_value`` give them)."""
        enc = _encode_str
        batch = self.batch
        term, df, chunks, pending = self.term, self.df, self.chunks, self.pending
        prev_doc, prev_line = self.prev_doc, self.prev_line
        try:
            for line in lines:
                try:
                    t, doc, tf_s, pos = line.split("\t")
                    tf = int(tf_s)
                except ValueError:
                    t = split_intermediate(line)[0]
                    if t != term and term is not None:
                        self._close(term, df, chunks, pending)
                        closed, term = term, None
                        if t < closed:
                            raise UnsortedInputError(SORT_HINT) from None
                    split_value(line[len(t) + 1:])
                    raise  # pragma: no cover - split_value raised
                if t != term:
                    if term is not None:
                        self._close(term, df, chunks, pending)
                        if t < term:
                            term = None
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
                if len(pending) > batch:  # keep the last: the next line may repeat it
                    chunks.append(",".join(pending[:-1]))
                    del pending[:-1]
        finally:
            self.term, self.df, self.chunks, self.pending = term, df, chunks, pending
            self.prev_doc, self.prev_line = prev_doc, prev_line


def reduce_lines(lines: Iterable[str]) -> Iterator[str]:
    """Index lines from sorted intermediate lines (no newlines); checks the sort order.
    The streaming reducer's line path (``Reducer.feed_lines``), for tests and callers
    that hold lines rather than bytes."""
    r = Reducer()
    r.feed_lines(lines)
    r.finish()
    text = "".join(r.out)
    yield from text.split("\n")[:-1] if text else ()
