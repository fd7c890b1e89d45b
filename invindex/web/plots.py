"""The index page's statistics and plots, from ``invindex stats`` (search.stats), computed
once per process on first use: they need one pass over the whole index.

The pass uses a reader of its own (not the one searches share), so it holds up no
search while it runs. A source without a line-by-line reader (every source has one
today: index directories, cloud prefixes, stores) would show none. Plots need
matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import importlib.util
import io
import threading
from typing import List, Tuple

from ..search.stats import Stats, collect, plot
from ..stores import open_reader
from .site import SearchSite

PLOT = "stats"  # one PNG: rank/frequency (Zipf) and the document-length histogram
_lock = threading.Lock()  # pyplot is not thread-safe
_stats_lock = threading.Lock()


def stats_of(site: SearchSite) -> Stats | None:
    reader = getattr(site.source, "reader", None)
    if reader is None:
        return None
    with _stats_lock:  # one pass over the whole index, once
        if "stats" not in site.derived:
            site.derived["stats"] = collect(open_reader(reader.location).iter_lines())
        return site.derived["stats"]


def available(site: SearchSite) -> List[Tuple[str, str]]:
    """``(name, description)`` of the plots this site can draw."""
    if getattr(site.source, "reader", None) is None or \
            importlib.util.find_spec("matplotlib") is None:
        return []
    return [(PLOT, "Rank / frequency (Zipf) and document lengths")]


def png(site: SearchSite, name: str) -> bytes | None:
    if name not in dict(available(site)):
        return None
    stats = stats_of(site)
    with _lock:
        if f"png:{name}" not in site.derived:
            buf = io.BytesIO()
            plot(stats, buf)  # matplotlib writes to a file object as well as a path
            site.derived[f"png:{name}"] = buf.getvalue()
        return site.derived[f"png:{name}"]
