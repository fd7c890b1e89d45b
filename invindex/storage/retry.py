"""Exponential backoff with full jitter, for the few calls the SDKs do not retry.

The SDKs retry their requests (throttling, 5xx, dropped connections) themselves; a
response body that breaks off while it is being read is ours to retry.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Callable, Tuple, Type, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...)."""
    return random.uniform(0, min(cap, base * 2 ** attempt))


def retry_call(fn: Callable[[], T], retry_on: Tuple[Type[BaseException], ...],
               attempts: int = 5, what: str = "request") -> T:
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except retry_on as e:
            if attempt == attempts:
                raise
            delay = backoff(attempt)
            log.debug("%s failed (%s: %s); retry %d in %.2fs", what, type(e).__name__, e,
                      attempt, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
