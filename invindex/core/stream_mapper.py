"""The streaming mapper (``scripts/mapper.py``): ``doc_id<TAB>text`` lines on stdin ->
``term<TAB>doc_id<TAB>tf<TAB>positions`` lines (and the document table's) on stdout.

See ``streaming`` for what both scripts share.
"""

from __future__ import annotations

import argparse
import io
import sys

from . import counters
from .analysis import add_analyzer_arguments, analyzer_from_args
from .compression import BOM, decompressing
from .mapping import map_block
from .records import (
    BadRecordError,
    BadRecordLog,
    RecordTooLongError,
    bounded_lines,
    iter_records,
    parse_block,
)
from .streaming import BLOCK, input_location, line_blocks, run, utf8_stdout

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import BinaryIO, Iterable, Iterator, List, TextIO, Tuple

    Records = Tuple[List[str], List[str]]  # doc_ids, texts

_MAX_NOTES = 5


def mapper_main(argv: List[str] | None = None, stdin: BinaryIO | None = None,
                stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="mapper.py",
        description="invindex streaming mapper: doc_id<TAB>text lines on stdin -> "
                    "term<TAB>doc_id<TAB>tf<TAB>positions lines on stdout.")
    add_analyzer_arguments(p)
    p.add_argument("--strict", action="store_true", help="stop at the first bad record")
    p.add_argument("--source", help="input name used in bad-record messages")
    p.add_argument("--max-record-bytes", type=int, default=0, metavar="N",
                   help="stop with an error at a record longer than N bytes (default: "
                        "no limit), instead of reading it whole into memory")
    args = p.parse_args(argv)
    analyzer = analyzer_from_args(args)
    stdin = decompressing(stdin or sys.stdin.buffer)
    out = stdout or utf8_stdout()
    err = stderr or sys.stderr
    bad = BadRecordLog(keep=_MAX_NOTES)
    docs = tokens = 0
    write = out.write
    try:
        source, split_start = input_location(args.source)
        for doc_ids, texts in _record_blocks(stdin, source, split_start, bad, args.strict,
                                             max(args.max_record_bytes, 0)):
            text, n = map_block(analyzer, doc_ids, texts)
            write(text)
            docs += len(doc_ids)
            tokens += n
    except (BadRecordError, RecordTooLongError) as e:
        err.write(f"mapper.py: error: {e}\n")
        return 1
    for record in bad.examples:
        err.write(f"{counters.NOTE_PREFIX}{record.describe()}\n")
    err.write(counters.counter_line("documents", docs))
    err.write(counters.counter_line("tokens", tokens))
    for kind, n in bad.counts.items():
        err.write(counters.counter_line(counters.BAD_PREFIX + kind, n))
    out.flush()
    return 0


def _record_blocks(stream: BinaryIO, source: str, split_start: int, bad: BadRecordLog,
                   strict: bool, limit: int = 0) -> Iterator[Records]:
    """The input's good records a block at a time: at once (``parse_block``) when the
    whole block is good, else line by line (``iter_records``: numbered, counted; with a
    ``limit``, a record longer than that stops the mapper, ``bounded_lines``)."""
    line_no, offset = 1, split_start
    for block in line_blocks(stream, BLOCK, limit):
        parsed = None
        if not (limit and len(block) > limit or offset == 0 and block.startswith(BOM)):
            parsed = parse_block(block)
        if parsed is None:
            lines: Iterable[bytes] = io.BytesIO(block)
            if limit:
                lines = bounded_lines(lines, limit, source, split_start, line_no)
            yield from _in_blocks(iter_records(lines, source, bad, strict, split_start,
                                               offset, line_no))
        else:
            yield parsed
        line_no += block.count(b"\n")
        offset += len(block)


def _in_blocks(records: Iterable[Tuple[str, str]], size: int = 1024) -> Iterator[Records]:
    """Records in blocks of ``size``; those before a fatal bad record still come out."""
    doc_ids: List[str] = []
    texts: List[str] = []
    try:
        for doc_id, text in records:
            doc_ids.append(doc_id)
            texts.append(text)
            if len(doc_ids) >= size:
                yield doc_ids, texts
                doc_ids, texts = [], []
    except (BadRecordError, RecordTooLongError):
        if doc_ids:
            yield doc_ids, texts
        raise
    if doc_ids:
        yield doc_ids, texts


if __name__ == "__main__":  # python -m invindex.core.stream_mapper [flags]
    run(mapper_main)
