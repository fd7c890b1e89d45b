"""Parse input records (``doc_id<TAB>text``) and account for the bad ones.

A record is one line of bytes, split at the first tab. A trailing ``\\r`` (and the
``\\n``) are dropped, and so is a UTF-8 byte-order mark that starts a file. Bad records
are never raised as tracebacks nor silently lost: they are counted by kind, and the first
few are kept with their location so that a user can find them.
"""

from __future__ import annotations

from collections import namedtuple
from itertools import repeat
from operator import itemgetter

from .compression import BOM

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import Dict, Iterable, Iterator, List, Tuple

# Kinds of bad record. Keep in sync with DESIGN.md ("Input record").
NO_TAB = "no_tab"
EMPTY_DOC_ID = "empty_doc_id"
BAD_DOC_ID = "control_char_in_doc_id"
UNDECODABLE = "undecodable"
BAD_KINDS = (NO_TAB, EMPTY_DOC_ID, BAD_DOC_ID, UNDECODABLE)

_EXPLAIN = {
    NO_TAB: "no tab between doc_id and text",
    EMPTY_DOC_ID: "empty doc_id",
    BAD_DOC_ID: "doc_id contains a control character",
    UNDECODABLE: "not valid UTF-8",
}

# doc ids may not hold C0 control characters: a byte below TAB would sort a
# `term<TAB>doc_id` line differently from the (term, doc_id) key it stands for.
_CONTROL = frozenset(chr(c) for c in range(0x20))


class BadRecordError(ValueError):
    """Raised in strict mode for the first bad record."""

    def __init__(self, bad: BadRecord) -> None:
        super().__init__(bad.describe())
        self.bad = bad

    def __reduce__(self):  # survive the trip back from a worker process
        return (BadRecordError, (self.bad,))


# split_start > 0: line_no counts from the start of this split of the file; offset: the
# line's byte offset in the file, when known. A named tuple, not a dataclass: importing
# dataclasses (and inspect) was a third of what a streaming task imports at start.
class BadRecord(namedtuple("BadRecord", "kind source line_no preview split_start offset",
                           defaults=(0, None))):
    __slots__ = ()

    def replace(self, **changes: object) -> BadRecord:
        """A copy with these fields changed (``dataclasses.replace``, as it was one)."""
        return self._replace(**changes)

    def describe(self) -> str:
        where = location(self.source, self.line_no, self.split_start)
        return f"bad record at {where} ({_EXPLAIN[self.kind]}): {self.preview!r}"


def location(source: str, line_no: int, split_start: int = 0) -> str:
    """``file:line``, or for a Hadoop-style split (whose line numbers are not the
    file's) ``file (split at byte S) line K``."""
    if split_start:
        return f"{source or 'input'} (split at byte {split_start}) line {line_no}"
    return f"{source}:{line_no}" if source else f"line {line_no}"


class RecordTooLongError(ValueError):
    """A record longer than the memory budget lets one record be: inverting it would
    take several times its size (``fast.RECORD_MEMORY_PER_BYTE``), so it is refused."""

    def __init__(self, where: str, limit: int) -> None:
        super().__init__(f"record at {where} is longer than {limit / 2**20:.1f} MB, the "
                         f"most one record may be within the memory budget (raise "
                         f"--memory, lower --jobs, or split the record)")
        self.where, self.limit = where, limit

    def __reduce__(self):  # survive the trip back from a worker process
        return (RecordTooLongError, (self.where, self.limit))


def bounded_lines(stream: Iterable[bytes], limit: int, source: str = "",
                  split_start: int = 0, first_line: int = 1) -> Iterator[bytes]:
    """The stream's lines, none read past ``limit`` bytes (newline excluded): a longer
    one raises ``RecordTooLongError`` instead of being read whole into memory.
    ``first_line`` numbers the first line (the stream may start inside a split)."""
    readline = stream.readline  # type: ignore[attr-defined]
    line_no = first_line - 1
    while True:
        raw = readline(limit + 1)
        if not raw:
            return
        line_no += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            raise RecordTooLongError(location(source, line_no, split_start), limit)
        yield raw


class BadRecordLog:
    """Counts bad records by kind and keeps the first ``keep`` of them."""

    def __init__(self, keep: int = 5) -> None:
        self.keep = keep
        self.counts: Dict[str, int] = {}
        self.examples: List[BadRecord] = []

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, bad: BadRecord) -> None:
        self.counts[bad.kind] = self.counts.get(bad.kind, 0) + 1
        if len(self.examples) < self.keep:
            self.examples.append(bad)

    def merge_counts(self, counts: Dict[str, int]) -> None:
        for kind, n in counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + n


def _preview(raw: bytes, limit: int = 60) -> str:
    text = raw.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
    return text if len(text) <= limit else text[:limit] + "..."


def parse_record(raw: bytes) -> Tuple[str | None, str | None, str | None]:
    """Split one raw line into ``(doc_id, text, None)`` or ``(None, None, bad_kind)``."""
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, None, UNDECODABLE
    doc_id, tab, text = line.partition("\t")
    if not tab:
        return None, None, NO_TAB
    if not doc_id:
        return None, None, EMPTY_DOC_ID
    if not _CONTROL.isdisjoint(doc_id):
        return None, None, BAD_DOC_ID
    return doc_id, text, None


def parse_block(block: bytes) -> Tuple[List[str], List[str]] | None:
    """``(doc_ids, texts)`` of a block of whole lines when every line is a good record
    with nothing to drop (no ``\\r``); else None, and the caller reads the block a line
    at a time (``iter_records``), which counts the bad ones. The checks are C-level
    passes over the block: the streaming mapper's records cost no Python code each.
    A byte-order mark is the caller's to look for (it only starts a file)."""
    if b"\r" in block:
        return None
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()
    parts = list(map(str.partition, lines, repeat("\t")))
    ids = list(map(itemgetter(0), parts))
    if "" in ids or "" in map(itemgetter(1), parts) or not "".join(ids).isprintable():
        return None  # no tab, an empty doc_id, or a character to look at closer
    return ids, list(map(itemgetter(2), parts))


def accept(raw: bytes, line_no: int, source: str = "", bad: BadRecordLog | None = None,
           strict: bool = False, split_start: int = 0, offset: int | None = None,
           kind: str | None = None) -> Tuple[str, str] | None:
    """One input line: ``(doc_id, text)``, or None for a bad record, counted in ``bad``
    (or raised as ``BadRecordError`` when ``strict``). ``kind`` marks the line bad
    whatever it holds (the Spark job's replaced bytes: ``jobs/mr_invindex.py``)."""
    doc_id, text, found = (None, None, kind) if kind else parse_record(raw)
    if found is None:
        return doc_id, text  # type: ignore[return-value]
    record = BadRecord(found, source, line_no, _preview(raw), split_start, offset)
    if strict:
        raise BadRecordError(record)
    if bad is not None:
        bad.add(record)
    return None


def iter_records(
    lines: Iterable[bytes],
    source: str = "",
    bad: BadRecordLog | None = None,
    strict: bool = False,
    split_start: int = 0,
    first_offset: int | None = None,
    first_line: int = 1,
) -> Iterator[Tuple[str, str]]:
    """Yield ``(doc_id, text)`` for each good line; count (or, if strict, raise on) bad ones.

    Bad records are located by line number, counted within the split when ``lines``
    is a split of a file starting at byte ``split_start`` > 0, as a Hadoop task sees
    it; when the caller knows the byte offset of the first line, each bad record also
    carries its own offset (the fast engine turns it into a file line number).
    ``first_line`` numbers the first of ``lines`` when they do not start the split. A
    byte-order mark is dropped from the line at offset 0 (the file's first).
    """
    offset = split_start if first_offset is None else first_offset
    for line_no, raw in enumerate(lines, first_line):
        start, offset = offset, offset + len(raw) + (not raw.endswith(b"\n"))
        if start == 0 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        record = accept(raw, line_no, source, bad, strict, split_start,
                        None if first_offset is None else start)
        if record is not None:
            yield record
