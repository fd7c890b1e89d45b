"""Progress bars on a terminal, silence elsewhere; one callback type for all work.

Any long operation takes a ``ProgressCallback`` (called with the number of units just
done, as s3transfer and fsspec callbacks are) so that storage transfers, builds and
downloads report the same way. ``progress()`` draws a bar only when stderr is a
terminal and the user has not asked for quiet; in logs and CI it draws nothing.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable, TextIO

ProgressCallback = Callable[[int], None]


def _human(n: float, unit: str) -> str:
    if unit != "B":
        return f"{n:,.0f} {unit}" if unit else f"{n:,.0f}"
    for prefix in ("", "K", "M", "G", "T"):
        if abs(n) < 1024 or prefix == "T":
            return f"{n:.0f} {prefix}B" if not prefix else f"{n:.1f} {prefix}B"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


class Progress:
    """A thread-safe bar: ``update(n)`` from any thread; ``close()`` ends the line."""

    def __init__(self, total: int | None, desc: str = "", unit: str = "B",
                 stream: TextIO | None = None, min_interval: float = 0.1) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.done = 0
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._start = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, n: int) -> None:
        self.update(n)

    def update(self, n: int) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            if now - self._last >= self.min_interval:
                self._last = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        text = f"{self.desc} {_human(self.done, self.unit)}"
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * 24)
            eta = (self.total - self.done) / rate if rate > 0 else 0
            text = (f"{self.desc} [{bar:<24}] {frac:4.0%} {_human(self.done, self.unit)}"
                    f"/{_human(self.total, self.unit)} {_human(rate, self.unit)}/s "
                    f"ETA {eta:4.0f}s")
        else:
            text += f" {_human(rate, self.unit)}/s"
        self.stream.write("\r" + text[:120].ljust(80))
        self.stream.flush()

    def close(self) -> None:
        with self._lock:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NullProgress:
    """Does nothing, quickly: the bar off a terminal."""

    done = 0

    def __call__(self, n: int) -> None:
        pass

    def update(self, n: int) -> None:
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
