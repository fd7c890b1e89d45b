"""The streaming reducer (``scripts/reducer.py``): intermediate lines sorted in byte order
on stdin -> index lines ``term<TAB>{json}`` on stdout.

See ``streaming`` for what both scripts share.
"""

from __future__ import annotations

import sys

from . import counters
from .postings import MalformedIntermediateError, UnsortedInputError
from .reduce_blocks import Reducer
from .reduce_lines import decode_lines
from .streaming import BLOCK, line_blocks, run, utf8_stdout

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import BinaryIO, Iterable, Iterator, List, TextIO


def _decoded_batches(stream: BinaryIO, block: int = BLOCK) -> Iterator[Iterable[str]]:
    """The stream's lines (no newline), a block at a time (``reduce_lines.decode_lines``)."""
    return map(decode_lines, line_blocks(stream, block))


def reducer_main(argv: List[str] | None = None, stdin: BinaryIO | None = None,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:  # it takes no flag: a parser only to answer --help or refuse one
        import argparse  # not at start: a task passes none, and it costs ~5 % of a start

        p = argparse.ArgumentParser(
            prog="reducer.py",
            description="invindex streaming reducer: intermediate lines sorted in byte "
                        "order (LC_ALL=C sort) on stdin -> index lines term<TAB>{json} on "
                        "stdout.")
        p.parse_args(argv)
    stdin = stdin or sys.stdin.buffer
    out = stdout or utf8_stdout()
    err = stderr or sys.stderr
    write = out.write
    reducer = Reducer()
    done = reducer.out  # finished index text, written (and cleared) after each block
    try:
        for block in line_blocks(stdin):
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


if __name__ == "__main__":  # python -m invindex.core.stream_reducer [flags]
    run(reducer_main)
