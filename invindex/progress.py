"""Progress bars on a terminal, silence elsewhere; one callback type for all work.

Any long operation takes a ``ProgressCallback`` (called with the number of units just
done, as s3transfer and fsspec callbacks are) so that storage transfers, builds and
downloads report the same way; ``phase(callback, name, total)`` says a later stage
began. Bars are tqdm's (the command line only: node-side code never imports this),
imported when a bar is drawn: most runs draw none (-q, logs, CI).
``progress()`` draws a bar only when stderr is a terminal and the user has not asked
for quiet; in logs and CI it draws nothing.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable, TextIO

ProgressCallback = Callable[[int], None]


def _format(total: int | None) -> str | None:
    """tqdm's bar with the unit after both counts (``12.3MB/50.0MB``, as the summary
    writes sizes); tqdm's own counter line when the total is unknown."""
    if not total:
        return None
    return "{l_bar}{bar}| {n_fmt}{unit}/{total_fmt}{unit} [{elapsed}<{remaining}, {rate_fmt}]"


class Progress:
    """A thread-safe bar drawn by tqdm: ``update(n)`` from any thread; ``phase(name,
    total)`` starts a later stage on the same line (the pipe runner's sort and reduce);
    ``close()`` ends the line. Units are decimal (kB, MB: 1000), as in the summary."""

    def __init__(self, total: int | None, desc: str = "", unit: str = "B",
                 stream: TextIO | None = None, min_interval: float = 0.1) -> None:
        self.desc = desc
        self.done = 0
        self._lock = threading.Lock()
        # Imported here, not with the module, for start time: tqdm's package imports
        # tqdm.cli -> importlib.metadata, ~60 ms of every CLI start. No cycle.
        from tqdm import tqdm

        self._bar = tqdm(total=total or None, desc=desc, unit=unit, unit_scale=True,
                         unit_divisor=1000, file=stream or sys.stderr,
                         mininterval=min_interval, dynamic_ncols=True, leave=True,
                         bar_format=_format(total))

    def __call__(self, n: int) -> None:
        self.update(n)

    def update(self, n: int) -> None:
        with self._lock:
            self.done += n
            self._bar.update(n)

    def phase(self, name: str, total: int | None = None) -> None:
        """A new stage: the description says it, the count restarts at 0 of ``total``."""
        with self._lock:
            self.done = 0
            self._bar.set_description(f"{self.desc}: {name}", refresh=False)
            self._bar.bar_format = _format(total)
            self._bar.reset(total=total or None)
            self._bar.refresh()

    def close(self) -> None:
        with self._lock:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def phase(callback: ProgressCallback | None, name: str, total: int | None = None) -> None:
    """Tell a progress callback that a new stage started (when it can show one)."""
    show = getattr(callback, "phase", None)
    if show is not None:
        show(name, total)


class NullProgress:
    """Does nothing, quickly: the bar off a terminal."""

    done = 0

    def __call__(self, n: int) -> None:
        pass

    def update(self, n: int) -> None:
        pass

    def phase(self, name: str, total: int | None = None) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


_enabled: bool | None = None


def set_enabled(enabled: bool | None) -> None:
    """Force bars on or off (``--quiet``, tests); ``None`` means: only on a terminal."""
    global _enabled
    _enabled = enabled


def progress(total: int | None, desc: str = "", unit: str = "B") -> Progress | NullProgress:
    on = _enabled if _enabled is not None else sys.stderr.isatty()
    return Progress(total, desc, unit) if on else NullProgress()
