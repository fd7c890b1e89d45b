"""The pipe runner's ``sort | reducer`` as two phases of the build's progress bar.

The map phase moves the bar by input bytes; then ``sort`` reads every map output
before it writes a line, and the reducer writes the part as it reads. So: phase
``sort``, the bytes sort has read (Linux ``/proc/PID/io`` ``rchar``, capped at the map
outputs' size; elsewhere no count), until the part starts growing; then phase
``reduce``, the part's bytes as they are written (no total is known in advance).
Both phases are always shown, however fast they are.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..progress import ProgressCallback, phase

_POLL = 0.2


def _rchar(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@contextmanager
def sort_and_reduce(callback: ProgressCallback | None, sort_pid: int, part: Path,
                    total: int) -> Iterator[None]:
    """Show the two phases while the body waits for ``sort | reducer``."""
    if callback is None or getattr(callback, "phase", None) is None:
        yield
        return
    stop = threading.Event()
    state = {"reduce": False, "shown": 0}

    def reduce_phase() -> None:
        state["reduce"], state["shown"] = True, 0
        phase(callback, "reduce")

    def advance(to: int) -> None:
        if to > state["shown"]:
            callback(to - state["shown"])
            state["shown"] = to

    def poll() -> None:
        phase(callback, "sort", total)
        while not stop.wait(_POLL):
            if not state["reduce"]:
                if _size(part) == 0:
                    advance(min(_rchar(sort_pid) or 0, total))
                    continue
                reduce_phase()
            advance(_size(part))

    watcher = threading.Thread(target=poll, name="pipe-phases", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        if not state["reduce"]:
            reduce_phase()
        advance(_size(part))
