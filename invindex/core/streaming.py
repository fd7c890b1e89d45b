"""What the streaming mapper and reducer share (``scripts/mapper.py``, ``scripts/reducer.py``).

stdin -> stdout, bytes in, UTF-8 out, as Hadoop streaming runs them; counters and
bad-record notes go to stderr (see ``counters``). Exit status 1 with one line on
stderr for a fatal input problem; 2 for bad flags. The programs themselves are
``stream_mapper.mapper_main`` and ``stream_reducer.reducer_main``, apart, so that a task
imports only its own role's modules: a Hadoop job starts a Python per task, and on a
short split its start is most of its CPU.
"""

from __future__ import annotations

import io
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import BinaryIO, Iterator, List, TextIO


def input_location(explicit: str | None = None) -> tuple[str, int]:
    """The input's name and split start for bad-record locations: a flag, or what
    Hadoop (and mrjob) tell the task through the environment."""
    if explicit:
        return explicit, 0
    env = os.environ
    name = env.get("mapreduce_map_input_file") or env.get("map_input_file") or ""
    start = env.get("mapreduce_map_input_start") or env.get("map_input_start") or "0"
    return name, int(start) if start.isdigit() else 0


def utf8_stdout() -> TextIO:
    """UTF-8 whatever the node's locale (a POSIX locale would mean ASCII on old Pythons)."""
    return io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")


BLOCK = 1 << 16


def line_blocks(stream: BinaryIO, block: int = BLOCK, limit: int = 0) -> Iterator[bytes]:
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


def run(main) -> None:  # pragma: no cover - process entry
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)

