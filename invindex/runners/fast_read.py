"""Reading a split for the fast engine: batches of whole lines, decoded into records."""

from __future__ import annotations

from itertools import repeat
from operator import getitem
from pathlib import Path
from typing import IO, Iterator, List, NamedTuple, Tuple

from ..core.records import BOM, BadRecord, RecordTooLongError
from .fast_plan import Split


def _align(f: IO[bytes], start: int) -> int:
    """Offset of the first line starting at or after ``start``."""
    if start == 0:
        return 0
    f.seek(start - 1)
    return start - 1 + len(f.readline())


Batch = Tuple[int, int, List[List[bytes]]]


def read_batches(f: IO[bytes], split: Split, size: List[int],
             max_record: int = 0) -> Iterator[Batch]:
    """``(offset of first line, its line number in the split, [lines])`` batches of
    about ``size[0]`` bytes each.

    ``size`` is a one-item list so the caller can shrink batches as it goes; the lines
    come in a one-item list that the caller empties, so this generator holds no
    reference to a batch while it is being inverted. A line longer than
    ``max_record`` (0: no limit) raises ``RecordTooLongError`` and is not read whole.
    """
    pos = 0 if split.end < 0 else _align(f, split.start)
    if split.end >= 0:
        f.seek(pos)
    end = split.end if split.end >= 0 else None
    line = 1
    while end is None or pos < end:
        want = size[0] if end is None else min(size[0], end - pos)
        block = f.read(want)
        if not block:
            return
        if not block.endswith(b"\n"):  # finish the line that started in this batch
            block += f.readline(max_record + 1) if max_record else f.readline()
        start, pos = pos, pos + len(block)
        lines = block.split(b"\n")
        if not lines[-1]:
            lines.pop()  # the block ended with a newline
        if max_record and len(block) > max_record:
            _refuse_long(split, lines, start, line, max_record)
        del block
        first_line, line = line, line + len(lines)
        holder = [lines]
        del lines
        yield start, first_line, holder


def _refuse_long(split: Split, lines: List[bytes], start: int, line: int,
                 max_record: int) -> None:
    """Raise for the first of ``lines`` (the batch at byte ``start``, line ``line`` of
    the split) longer than ``max_record``, located by its line in the file."""
    offset = start
    for k, raw in enumerate(lines):
        if len(raw) > max_record:
            where = (f"{split.path}:{line + k}" if split.start == 0
                     else f"{split.path}:{line_number(split.path, offset)}")
            raise RecordTooLongError(where, max_record)
        offset += len(raw) + 1


def line_number(path: Path, offset: int) -> int:
    """1-based line number of the line at byte ``offset`` (only for error messages)."""
    n = 1
    with open(path, "rb") as f:
        while offset > 0:
            block = f.read(min(offset, 1 << 20))
            if not block:
                break
            n += block.count(b"\n")
            offset -= len(block)
    return n


def resolve(bad: BadRecord, path: Path) -> BadRecord:
    """A bad record found in a split, located by its line number in the whole file."""
    if bad.split_start and bad.offset is not None:
        return bad.replace(split_start=0, line_no=line_number(path, bad.offset))
    return bad


# Control characters other than tab and newline: a batch that has one anywhere (in a
# doc_id it makes a bad record; '\r' may end a line) is read line by line.
_CONTROL_BYTES = bytes(c for c in range(32) if c not in b"\t\n")


def clean_records(lines: List[bytes], offset: int) -> List[List[str]] | None:
    """A batch's ``[doc_id, text]`` records decoded and split at once (C passes, no
    Python call per line), when every line is a good record as it stands; None
    otherwise, and ``iter_records`` reads the batch line by line (bad records counted,
    '\r' dropped, a BOM at offset 0)."""
    if not lines or (offset == 0 and lines[0].startswith(BOM)):
        return None
    raw = b"\n".join(lines)
    if len(raw.translate(None, _CONTROL_BYTES)) != len(raw):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    del raw
    if text.startswith("\t") or "\n\t" in text:  # an empty doc_id
        return None
    records = split_records(text)
    return records if min(map(len, records)) == 2 else None  # else a line has no tab


def split_records(text: str) -> List[List[str]]:
    """``[doc_id, text]`` of each of ``text``'s lines (as ``clean_records``, unchecked:
    for lines that passed ``clean_ids``)."""
    return [line.split("\t", 1) for line in text.split("\n")]


class RawLines(NamedTuple):
    """A batch of good records, not decoded: its lines and their doc_ids (bytes)."""

    lines: List[bytes]
    ids: List[bytes]

    def __len__(self) -> int:  # as a list of records: the number of records
        return len(self.lines)


def clean_ids(lines: List[bytes], offset: int) -> List[bytes] | None:
    """Each line's doc_id (UTF-8 bytes, whose order is the code points' order) when
    every line is a good record as it stands (the test ``clean_records`` makes), else
    None: the routing's check, which leaves the decoding to the worker that inverts."""
    if not lines or (offset == 0 and lines[0].startswith(BOM)):
        return None
    raw = b"\n".join(lines)
    if len(raw.translate(None, _CONTROL_BYTES)) != len(raw):
        return None
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    del raw
    tabs = list(map(bytes.find, lines, repeat(b"\t")))
    if min(tabs) <= 0:  # a line without a tab (-1) or with an empty doc_id (0)
        return None
    return list(map(getitem, lines, map(slice, tabs)))
