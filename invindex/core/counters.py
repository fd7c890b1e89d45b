"""Hadoop-streaming counters and bad-record notes on stderr, written and parsed.

A streaming task reports through stderr: ``reporter:counter:GROUP,NAME,N`` lines are
Hadoop counters (mrjob reads them too); our bad-record notes are ordinary log lines
that start with ``invindex: bad record``. The pipe runner parses both back.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import Dict, Iterable, List, Mapping, Tuple


GROUP = "invindex"
BAD_PREFIX = "bad_records."
NOTE_PREFIX = "invindex: "
# The mrjob job's notes as an output line ``$note<TAB>note`` (``$`` starts no term), on
# Spark, where a reducer's stderr may be on another host: the runner takes them out.
NOTE_KEY = "$note"


def add(totals: Dict[str, int], counts: Mapping[str, int]) -> Dict[str, int]:
    """Sum ``counts`` into ``totals`` (the one place job counters are added up)."""
    for name, n in counts.items():
        totals[name] = totals.get(name, 0) + n
    return totals


def counter_line(name: str, n: int) -> str:
    return f"reporter:counter:{GROUP},{name},{n}\n"


def parse_stderr(lines: Iterable[str]) -> Tuple[Dict[str, int], List[str]]:
    """Sum our counters; return them and the other (non-counter, non-empty) lines."""
    counts: Dict[str, int] = {}
    other: List[str] = []
    prefix = f"reporter:counter:{GROUP},"
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith(prefix):
            name, _, n = line[len(prefix):].rpartition(",")
            add(counts, {name: int(n)})
        elif line and not line.startswith("reporter:"):
            other.append(line)
    return counts, other


def bad_counts(counters: Dict[str, int]) -> Dict[str, int]:
    return {k[len(BAD_PREFIX):]: v for k, v in counters.items() if k.startswith(BAD_PREFIX)}
