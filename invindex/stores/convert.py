"""Postings converted to ``layout``'s arrays in worker processes, safely.

The first version used a ``multiprocessing`` fork ``Pool`` and hung. Two things in that
pool's design, shown in the README ("Serving", why publishing is parallel this way):
its workers share one lock to read tasks, which an idle worker holds while it waits,
so a worker that dies (SIGKILL, the OOM killer, a SIGTERM sent to the process group)
leaves it held forever, and the pool's own ``terminate()`` can take that lock and keep
it while it waits for a worker that is blocked on it; and it forks, from a process that
may have threads (a test run, a server), even from its own helper thread when it
replaces a worker. So here:

- workers are *spawned*: fresh interpreters that inherit no thread, lock, signal
  handler or open connection from this process;
- while they start (a few seconds of imports on a busy machine), this process converts
  chunks itself, so a small index never waits for them, and each worker takes its
  first chunk as soon as it is ready (not when the slowest one is);
- each worker has a pipe of its own and at most one chunk in flight; chunks go out
  and come back in order, so memory stays at ``jobs`` chunks and nothing is shared
  between processes that a dead one could leave locked;
- the parent waits on the pipe and on the worker's exit together: a worker that dies
  fails the publish with one line (the caller then drops the unfinished version);
- workers ignore SIGINT and SIGHUP (Ctrl-C reaches the whole process group; the
  parent decides) and die on SIGTERM, which is how the parent stops them, on success,
  failure or interruption alike; a parent that dies closes their pipes, and they exit.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import threading
from collections import deque
from contextlib import suppress
from itertools import chain
from multiprocessing import resource_tracker
from multiprocessing.connection import wait
from typing import Any, Deque, Iterator, List, Sequence

import numpy as np

from ..errors import InvindexError
from .layout import Encoder, Row

log = logging.getLogger("invindex.stores")

QUIET = {signal.SIGINT, signal.SIGHUP}  # the parent's to act on, not the workers'
READY = "ready"


class WorkerDied(InvindexError):
    """A conversion worker exited before returning its chunk: exit status 1."""


def chunk_bytes() -> int:
    """Bytes of index lines per chunk sent to a worker; ``INVINDEX_PUBLISH_CHUNK_BYTES``
    overrides (tests use small chunks on small indexes)."""
    return max(1, int(os.environ.get("INVINDEX_PUBLISH_CHUNK_BYTES", "0") or 0) or 4 << 20)


def chunks(source: Any, size: int) -> Iterator[bytes]:
    """``source``'s lines as blocks of whole lines, each ``size`` bytes or a little
    more: a part file's own bytes when the source is an index (nothing decoded here),
    else its lines encoded (a store being copied)."""
    if hasattr(source, "open_part"):  # an IndexReader: its parts, size-checked
        for part in source.manifest["parts"]:
            with source.open_part(part) as f:
                while block := f.read(size):
                    if not block.endswith(b"\n"):
                        block += f.readline()
                    yield block
        return
    pending: List[bytes] = []
    total = 0
    for line in source.iter_lines():
        pending.append(line.encode("utf-8") + b"\n")
        total += len(pending[-1])
        if total >= size:
            yield b"".join(pending)
            pending, total = [], 0
    if pending:
        yield b"".join(pending)


def _serve(conn: Any) -> None:
    """A worker: the doc ids and their ``IdTable``, then chunks of lines (bytes) in;
    ``READY``, then ``(rows, touched docs, their spans)`` per chunk out."""
    for sig in QUIET:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, QUIET)  # blocked since the start: see below
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        encoder = Encoder(*pickle.loads(conn.recv_bytes()))  # the ids and their table
        conn.send(READY)
        while data := conn.recv_bytes():
            try:
                encoder.ends[:] = 0
                rows = encoder.block(data)
                touched = np.flatnonzero(encoder.ends)
                reply: Any = (rows, touched, encoder.ends[touched])
            except Exception as e:  # the parent raises it, as in one process
                reply = e if _picklable(e) else RuntimeError(f"{type(e).__name__}: {e}")
            conn.send(reply)
    except (EOFError, OSError):  # the parent is gone
        pass


def _picklable(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
        return True
    except Exception:
        return False


class _Worker:
    def __init__(self, ctx: Any, ids_blob: bytes, n: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True,
                                name=f"invindex-convert-{n}")
        # A worker starts with SIGINT/SIGHUP blocked (a blocked mask survives exec), so
        # a Ctrl-C while it imports is held, then dropped once it ignores them; this
        # thread's own copies wait here and are delivered when unblocked, not lost.
        # multiprocessing's resource tracker, started with the first spawned process,
        # unblocks SIGINT on its way out: started first, outside the blocked window.
        resource_tracker.ensure_running()
        old = signal.pthread_sigmask(signal.SIG_BLOCK, QUIET)
        try:
            self.proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        child.close()  # so that a dead worker is an EOF here, not a wait forever
        # The doc ids (megabytes) go from a thread: the pipe takes them only as fast as
        # the worker, still importing, reads, and this thread converts meanwhile.
        self.sender = threading.Thread(target=self._send_ids, args=(ids_blob,),
                                       name=f"invindex-convert-ids-{n}", daemon=True)
        self.sender.start()

    def _send_ids(self, blob: bytes) -> None:
        with suppress(OSError):  # a worker that died: receive() says so
            self.conn.send_bytes(blob)

    def ready(self) -> bool:
        return self.conn.poll()

    def wait_ready(self) -> None:
        if self.receive() != READY:
            raise AssertionError("a conversion worker spoke out of turn")
        self.sender.join()

    def send(self, data: bytes) -> None:
        try:
            self.conn.send_bytes(data)
        except OSError:
            self.died()

    def receive(self) -> Any:
        ready = wait([self.conn, self.proc.sentinel])
        if self.conn in ready:
            try:
                reply = self.conn.recv()
            except (EOFError, OSError):
                self.died()
            if isinstance(reply, BaseException):
                raise reply
            return reply
        self.died()
        raise AssertionError("unreachable")

    def died(self) -> None:
        self.proc.join(5)
        code = self.proc.exitcode
        how = (f"was killed by {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exited with status {code}")
        raise WorkerDied(f"a postings conversion worker (pid {self.proc.pid}) {how}; "
                         "nothing was published")

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(10)
        self.conn.close()


def encode_rows(encoder: Encoder, ids: Sequence[str], source: Any, jobs: int
                ) -> Iterator[Row]:
    """``encoder``'s rows of every line of ``source`` (``chunks``), in order, converted
    by ``jobs`` spawned workers when there is more than one chunk (each document's span
    merged back into ``encoder``)."""
    pieces = chunks(source, chunk_bytes())
    first = next(pieces, None)
    second = next(pieces, None) if jobs > 1 and first is not None else None
    if second is None:  # one chunk at most: not worth starting a process
        for chunk in chain([first] if first else [], pieces):
            yield from encoder.block(chunk)
        return
    ctx = multiprocessing.get_context("spawn")
    workers: List[_Worker] = []
    try:
        blob = pickle.dumps((list(ids), encoder.table), pickle.HIGHEST_PROTOCOL)
        for n in range(jobs):
            workers.append(_Worker(ctx, blob, n))
        log.info("converting postings in %d worker processes (pids %s)", jobs,
                 " ".join(str(w.proc.pid) for w in workers))
        todo = chain([first, second], pieces)
        for chunk in todo:  # here, until a worker has started (a small index: all of it)
            yield from encoder.block(chunk)
            if any(w.ready() for w in workers):
                break
        else:
            return
        starting = list(workers)  # each takes its first chunk as soon as it is ready
        inflight: Deque[_Worker] = deque()

        def dispatch(w: _Worker) -> None:
            chunk = next(todo, None)
            if chunk is not None:
                w.send(chunk)
                inflight.append(w)

        while True:
            for w in [w for w in starting if w.ready()]:
                starting.remove(w)
                w.wait_ready()
                log.info("conversion worker %d ready", w.proc.pid)
                dispatch(w)
            if not inflight:  # a worker leaves it only when no chunk is left for it
                break
            w = inflight.popleft()
            rows, touched, ends = w.receive()
            dispatch(w)  # the worker converts the next chunk while we load these rows
            encoder.ends[touched] = np.maximum(encoder.ends[touched], ends)
            yield from rows
    finally:
        for w in workers:
            w.stop()
