"""Give up on a Spark job that can never start, instead of waiting forever.

When no worker accepts the application (too little memory or cores, workers that
cannot reach the driver's address, no worker at all), Spark's driver only repeats
"Initial job has not accepted any resources" every 15 s, for ever. The watchdog reads
the driver's log lines as they arrive; once Spark has said that, and no task has
started ``wait_s`` seconds after the submission, it stops spark-submit's process group
(SIGTERM, so the driver unregisters the application from the master; SIGKILL after a
grace period), mutes mrjob's echo of the dying driver, and turns the failure that
follows into one line naming the master and what Spark reported. The driver is a child
of this process (mrjob starts it), found by its command line through ``/proc`` (Linux) or ``pgrep``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ContextManager, Iterator, List

from ..errors import InvindexError
from . import mrjob_private

DEFAULT_WAIT_S = 600.0
STARVED = "Initial job has not accepted any resources"
STARTED = "Starting task "
STARVATION_PERIOD_S = 15.0  # spark.starvation.timeout's default: how often Spark repeats it
GRACE_S = 15.0


def _spark_children(pid: int) -> List[int]:
    """Children of ``pid`` that are spark-submit (its script, or the JVM it execs)."""
    proc = Path("/proc")
    if not proc.is_dir():
        out = subprocess.run(["pgrep", "-P", str(pid), "-f", "spark-submit|SparkSubmit"],
                             capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]
    kids = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and (b"spark-submit" in cmdline or b"SparkSubmit" in cmdline):
            kids.append(int(stat.parent.name))
    return kids


def _signal(pid: int, sig: int) -> bool:
    """Signal the child's process group when it leads one (mrjob runs spark-submit on a
    PTY, in a session of its own), else the child alone; False when it is gone."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def stop_spark_submit(grace_s: float = GRACE_S) -> None:
    """SIGTERM to this process's spark-submit (and its group), SIGKILL after grace_s."""
    pids = [p for p in _spark_children(os.getpid()) if _signal(p, signal.SIGTERM)]
    deadline = time.monotonic() + grace_s
    while pids and time.monotonic() < deadline:
        time.sleep(0.2)
        pids = [p for p in pids if _signal(p, 0)]
    for p in pids:
        _signal(p, signal.SIGKILL)


class StartWatchdog:
    """Fed the driver's log messages (``see``); ``watching()`` runs the clock."""

    def __init__(self, master: str, wait_s: float | None = None) -> None:
        self.master = master
        self.wait_s = DEFAULT_WAIT_S if wait_s is None else float(wait_s)
        self.starved: str | None = None
        self.started = False
        self._last = 0.0
        self._period = STARVATION_PERIOD_S
        self.fired: str | None = None
        self._stop = threading.Event()

    def see(self, message: str) -> None:
        now = time.monotonic()
        if STARTED in message:
            self.started = True
        elif STARVED in message:
            if self.starved is None:
                self.starved = message.strip().splitlines()[0]
            else:
                self._period = max(self._period, now - self._last)
            self._last = now

    def _starving(self) -> bool:
        """Spark said it, no task started, and it still says it every period (should
        "Starting task" not show, e.g. with a WARN-level log4j, the repeats stop)."""
        return (self.starved is not None and not self.started
                and time.monotonic() - self._last < 3 * self._period + 5)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(0.5):
            if self._starving() and time.monotonic() - start >= self.wait_s:
                self.fired = (f"the Spark job never started: the master {self.master} "
                              f"gave it no executor within {self.wait_s:g} s (Spark: "
                              f"{self.starved}); stopped it (--spark-start-timeout)")
                # what the dying driver says next is the echo of this stop, not news
                logging.getLogger("mrjob").setLevel(logging.CRITICAL + 1)
                stop_spark_submit()
                return

    @contextmanager
    def watching(self) -> Iterator[StartWatchdog]:
        """While the job runs; a failure after the watchdog fired becomes its line."""
        if self.wait_s <= 0:
            yield self
            return
        thread = threading.Thread(target=self._run, name="spark-start-watchdog",
                                  daemon=True)
        level = logging.getLogger("mrjob").level
        thread.start()
        try:
            yield self
        except Exception:
            if self.fired:
                raise InvindexError(self.fired) from None
            raise
        finally:
            self._stop.set()
            thread.join()
            logging.getLogger("mrjob").setLevel(level)
        if self.fired:  # the driver was stopped but the step did not report a failure
            raise InvindexError(self.fired)


def attach(mr: Any, wait_s: float | None) -> ContextManager[StartWatchdog]:
    """``watching()`` of a watchdog fed every log4j record of the spark-submit run of
    ``mr`` (a SparkMRJobRunner), for the master the run really uses (our default,
    mrjob.conf, or the command line)."""
    dog = StartWatchdog(mrjob_private.option(mr, "spark_master"), wait_s)
    mrjob_private.feed_spark_log(mr, dog.see)
    return dog.watching()
