"""The streaming mapper and reducer programs (``scripts/mapper.py``, ``scripts/reducer.py``).

stdin -> stdout, bytes in, UTF-8 out, as Hadoop streaming runs them; counters and
bad-record notes go to stderr (see ``counters``). Exit status 1 with one line on
stderr for a fatal input problem; 2 for bad flags.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import BinaryIO, Iterable, Iterator, List, TextIO, Tuple

from . import counters
from .analysis import add_analyzer_arguments, analyzer_from_args
from .compression import BOM, decompressing
from .mapping import map_block
from .postings import MalformedIntermediateError, UnsortedInputError
from .records import (
    BadRecordError,
    BadRecordLog,
    RecordTooLongError,
    bounded_lines,
    iter_records,
    parse_block,
)
from .reduce_blocks import Reducer
from .reduce_lines import decode_lines

_MAX_NOTES = 5


def input_location(explicit: str | None = None) -> tuple[str, int]:
    """The input's name and split start for bad-record locations: a flag, or what
    Hadoop (and mrjob) tell the task through the environment."""
    if explicit:
        return explicit, 0
    env = os.environ
    name = env.get("mapreduce_map_input_file") or env.get("map_input_file") or ""
    start = env.get("mapreduce_map_input_start") or env.get("map_input_start") or "0"
    return name, int(start) if start.isdigit() else 0


def _utf8_stdout() -> TextIO:
    """UTF-8 whatever the node's locale (a POSIX locale would mean ASCII on old Pythons)."""
    return io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")


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
    out = stdout or _utf8_stdout()
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


_BLOCK = 1 << 16


def _line_blocks(stream: BinaryIO, block: int = _BLOCK, limit: int = 0) -> Iterator[bytes]:
    """The stream's bytes a block of whole lines at a time (the last may lack its
    newline): both scripts work a block at a time, as a line at a time costs more than
    the work on it. With a ``limit``, a line found longer than that is not read further:
    its start is the last block."""
    held: List[bytes] = []
    while True:
        data = stream.read(block)
        if not data:
            break
        cut = data.rfind(b"\n") + 1
        if not cut:  # a line longer than a block
            held.append(data)
            if limit and sum(map(len, held)) > limit:
                break
            continue
        held.append(data[:cut])
        chunk = b"".join(held)
        held = [data[cut:]] if cut < len(data) else []
        yield chunk
    if held:
        yield b"".join(held)


Records = Tuple[List[str], List[str]]  # doc_ids, texts


def _record_blocks(stream: BinaryIO, source: str, split_start: int, bad: BadRecordLog,
                   strict: bool, limit: int = 0) -> Iterator[Records]:
    """The input's good records a block at a time: at once (``parse_block``) when the
    whole block is good, else line by line (``iter_records``: numbered, counted; with a
    ``limit``, a record longer than that stops the mapper, ``bounded_lines``)."""
    line_no, offset = 1, split_start
    for block in _line_blocks(stream, _BLOCK, limit):
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


def _decoded_batches(stream: BinaryIO, block: int = _BLOCK) -> Iterator[Iterable[str]]:
    """The stream's lines (no newline), a block at a time (``reduce_lines.decode_lines``)."""
    return map(decode_lines, _line_blocks(stream, block))


def reducer_main(argv: List[str] | None = None, stdin: BinaryIO | None = None,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="reducer.py",
        description="invindex streaming reducer: intermediate lines sorted in byte order "
                    "(LC_ALL=C sort) on stdin -> index lines term<TAB>{json} on stdout.")
    p.parse_args(argv)
    stdin = stdin or sys.stdin.buffer
    out = stdout or _utf8_stdout()
    err = stderr or sys.stderr
    write = out.write
    reducer = Reducer()
    done = reducer.out  # finished index text, written (and cleared) after each block
    try:
        for block in _line_blocks(stdin):
            reducer.feed(block)
            for text in done:
                write(text)
            done.clear()
        reducer.finish()
    except (UnsortedInputError, MalformedIntermediateError) as e:
        for text in done:  # the terms finished before the bad line
            write(text)
        out.flush()
        err.write(f"reducer.py: error: {e}\n")
        return 1
    for text in done:
        write(text)
    for name, n in reducer.counts.items():
        err.write(counters.counter_line(name, n))
    out.flush()
    return 0


def run(main) -> None:  # pragma: no cover - process entry
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # python -m invindex.core.streaming (mapper|reducer) [flags]
    _role = sys.argv.pop(1) if len(sys.argv) > 1 else ""
    if _role not in ("mapper", "reducer"):
        sys.exit("usage: python -m invindex.core.streaming (mapper|reducer) [flags]")
    run(mapper_main if _role == "mapper" else reducer_main)
