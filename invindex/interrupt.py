"""SIGINT, SIGTERM and SIGHUP all mean "stop": children stopped, temporaries removed,
one line, exit status 128+N.

``handled()`` (entered once by the CLI, and by the runners that may be used without
it) installs one handler for the three signals. In this process it stops the programs
started since (``sort``, ``reducer.py``, a Spark JVM...) and raises ``Interrupted``, a
``KeyboardInterrupt``, so the ``finally`` blocks that remove temporaries run, pools
stop their workers and mrjob's cleanup terminates a cluster the run created; any child
still running when the cleanup is done is stopped then. A forked worker that inherited
the handler ignores SIGINT/SIGHUP (Ctrl-C reaches the whole process group; its parent
decides) and exits quietly on SIGTERM: no ``ForkPoolWorker`` tracebacks. A second
signal during the cleanup is noted and ignored rather than cutting the cleanup short.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager, suppress
from typing import Any, Iterator, List, Set

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_active = threading.Event()


class Interrupted(KeyboardInterrupt):
    """A stop signal, raised where the main thread was; ``exit_code`` is 128+N."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


def _pool_workers() -> List[Any]:
    """This process's multiprocessing children. multiprocessing is not imported for
    this (it would cost every CLI start ~10 ms): a process that never imported it has
    started no such child."""
    mp = sys.modules.get("multiprocessing")
    return mp.active_children() if mp is not None else []


def _children(pid: int) -> List[int]:
    """Direct children of ``pid`` (Linux /proc; elsewhere multiprocessing's own)."""
    found: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(c) for c in f.read().split())
    except OSError:
        if pid == os.getpid():
            found = [p.pid for p in _pool_workers() if p.pid]
    return found


def _descendants_of(pids: Set[int]) -> Set[int]:
    return set().union(*(descendants(p) for p in pids)) if pids else set()


def descendants(pid: int | None = None) -> Set[int]:
    todo, seen = [pid or os.getpid()], set()
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def stop_children(keep: Set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """SIGTERM to every descendant not in ``keep`` (those that existed before)."""
    _terminate(descendants() - keep)


def stop_workers(wait: float = 10) -> None:
    """SIGTERM to this process's multiprocessing children (a pool being abandoned), and
    wait for them to exit, so that none writes into a directory being removed."""
    workers = _pool_workers()
    _terminate({p.pid for p in workers if p.pid})
    deadline = time.monotonic() + wait
    for p in workers:
        p.join(max(0.0, deadline - time.monotonic()))


def _terminate(pids: Set[int]) -> None:
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, signal.SIGTERM)


@contextmanager
def handled() -> Iterator[None]:
    """Stop signals raise ``Interrupted`` here (no-op outside the main thread, and when
    already active)."""
    if threading.current_thread() is not threading.main_thread() or _active.is_set():
        yield
        return
    owner = os.getpid()
    before = descendants()  # e.g. servers a test harness started: not ours to stop
    hit: List[int] = []

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != owner:  # a forked worker: its parent decides, and stops it
            if signum == signal.SIGTERM:
                os._exit(128 + signum)
            return
        if hit:
            log.warning("interrupted again: still cleaning up (stopping what this run "
                        "started, removing temporary files), please wait")
            return
        hit.append(signum)
        # Programs we started (sort, reducer.py, a JVM) stop now; pool workers are
        # stopped by the pool's own cleanup (killing one that holds a pool lock would
        # hang it), and whatever is left when the cleanup is done, at the end.
        workers = {p.pid for p in _pool_workers() if p.pid}
        _terminate(descendants() - before - workers - _descendants_of(workers))
        raise Interrupted(signum)

    def unraisable(info: Any) -> None:
        """An ``Interrupted`` raised where Python ignores exceptions (an at-fork hook
        while a worker starts): silently deliver the signal again, outside it."""
        if isinstance(info.exc_value, Interrupted) and os.getpid() == owner:
            hit.clear()  # from another thread, so that it does not land in here again
            threading.Timer(0.01, os.kill, (owner, info.exc_value.signum)).start()
            return
        old_hook(info)

    old = {s: signal.signal(s, handler) for s in SIGNALS}
    old_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    _active.set()
    try:
        yield
    except Exception:
        if hit:  # e.g. a worker pool broken by the same signal: report the signal
            raise Interrupted(hit[0]) from None
        raise
    finally:
        if hit:
            stop_children(before)
        _active.clear()
        sys.unraisablehook = old_hook
        for s, h in old.items():
            signal.signal(s, h)
