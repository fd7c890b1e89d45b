"""The streaming reducer, a line at a time: sorted intermediate lines -> index lines.

``LineReducer`` holds the open term between calls, so it can be fed any number of
batches of lines; ``reduce_blocks.Reducer`` adds the block-at-a-time path that most
input takes, and falls back on this one for the unusual (a doc_id repeated across
records, to merge; an escape; a bad or unsorted line), whose error messages it keeps.
"""

from __future__ import annotations

from .doctable import key_counters
from .postings import (
    LINE_TAIL,
    SORT_HINT,
    MalformedIntermediateError,
    UnsortedInputError,
    encode_posting,
    encode_str,
    line_head,
    merge_positions,
    split_intermediate,
    split_value,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import Dict, Iterable, Iterator, List


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


class LineReducer:
    """Sorted intermediate lines -> index lines, fed a batch of lines at a time.

    Finished index lines (with newlines) pile up in ``out`` for the caller to write and
    clear; ``finish`` closes the last term. ``counts`` holds the job counters
    (``doctable.key_counters``). Between batches it keeps the open term's df, its
    finished ``chunks`` (joined every ``batch`` postings, so a long posting list is held
    as about its output line) and ``pending`` postings, the last of them kept apart as
    its line in case the next line repeats its doc_id.
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

    def feed_lines(self, lines: Iterable[str]) -> None:
        """The line-at-a-time path (``merge_postings``' rules, error messages in the
        order ``split_intermediate``/``split_value`` give them)."""
        enc = encode_str
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
                    pos = merge_positions(ppos, pos)
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
    r = LineReducer()
    r.feed_lines(lines)
    r.finish()
    text = "".join(r.out)
    yield from text.split("\n")[:-1] if text else ()
