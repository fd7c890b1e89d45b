"""Collection statistics from one pass over an index's lines (``invindex stats``).

Documents and their lengths come from the document table, terms from the term lines:
vocabulary, tokens, the top terms by document frequency (df) and by collection
frequency (cf, the sum of a term's tf), and the distributions of document lengths and
of df (what Zipf's law predicts). Memory: one cf and df per term, one length per doc.
"""

from __future__ import annotations

import heapq
import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Tuple

from ..core.doctable import DOC_TABLE, is_term


@dataclass
class Stats:
    documents: int = 0
    tokens: int = 0
    vocabulary: int = 0
    postings: int = 0
    lengths: List[int] = field(default_factory=list)
    df: List[int] = field(default_factory=list)
    cf: List[int] = field(default_factory=list)
    top_df: List[Tuple[str, int]] = field(default_factory=list)
    top_cf: List[Tuple[str, int]] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"documents": self.documents, "tokens": self.tokens,
                "vocabulary": self.vocabulary, "postings": self.postings,
                "document_length": summary(self.lengths),
                "df": summary(self.df), "df_histogram": log_histogram(self.df),
                "document_length_histogram": log_histogram(self.lengths),
                "top_terms_by_df": self.top_df, "top_terms_by_cf": self.top_cf}


def collect(lines: Iterable[str], top: int = 20) -> Stats:
    s = Stats()
    by_df: List[Tuple[int, str]] = []
    by_cf: List[Tuple[int, str]] = []
    for line in lines:
        key, _, payload = line.partition("\t")
        if key.startswith(DOC_TABLE):
            s.lengths.extend(n for _, n in json.loads(payload)["postings"])
            continue
        if not is_term(key):
            continue
        postings = json.loads(payload)["postings"]
        df, cf = len(postings), sum(p[1] for p in postings)
        s.df.append(df)
        s.cf.append(cf)
        _push(by_df, (df, key), top)
        _push(by_cf, (cf, key), top)
    s.documents, s.tokens = len(s.lengths), sum(s.lengths)
    s.vocabulary, s.postings = len(s.df), sum(s.df)
    s.top_df = [(str(t), n) for n, t in sorted(by_df, key=_order)]
    s.top_cf = [(str(t), n) for n, t in sorted(by_cf, key=_order)]
    return s


class _Desc(str):
    """A term that compares in reverse, so that on equal counts the min-heap drops the
    term last in code point order first (ties keep the first terms)."""

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)


def _order(item: Tuple[int, str]) -> Tuple[int, str]:
    return -item[0], str(item[1])


def _push(heap: List[Tuple[int, str]], item: Tuple[int, str], top: int) -> None:
    entry = (item[0], _Desc(item[1]))
    if len(heap) < top:
        heapq.heappush(heap, entry)
    elif entry > heap[0]:
        heapq.heapreplace(heap, entry)


def summary(values: List[int]) -> Dict[str, float]:
    if not values:
        return {}
    v = sorted(values)

    def q(p: float) -> int:
        return v[min(len(v) - 1, int(p * len(v)))]

    return {"min": v[0], "median": q(0.5), "mean": round(sum(v) / len(v), 3),
            "p90": q(0.9), "p99": q(0.99), "max": v[-1]}


def log_histogram(values: List[int]) -> List[Tuple[str, int]]:
    """Counts in buckets 0, 1, 2-3, 4-7, ... (powers of two)."""
    counts: Dict[int, int] = {}
    for x in values:
        b = 0 if x <= 0 else int(math.log2(x)) + 1
        counts[b] = counts.get(b, 0) + 1
    out = []
    for b in sorted(counts):
        lo, hi = (0, 0) if b == 0 else (1 << (b - 1), (1 << b) - 1)
        out.append((str(lo) if lo == hi else f"{lo}-{hi}", counts[b]))
    return out


def text_report(s: Stats) -> List[str]:
    d = s.as_dict()
    lines = [f"documents   {s.documents:,}", f"tokens      {s.tokens:,}",
             f"vocabulary  {s.vocabulary:,} terms", f"postings    {s.postings:,}"]
    for name, key in (("document length", "document_length"), ("df", "df")):
        if d[key]:
            lines.append(f"{name:15} " + "  ".join(f"{k} {v:,}" for k, v in d[key].items()))
    for title, rows in (("top terms by df", s.top_df), ("top terms by cf", s.top_cf)):
        lines.append(f"{title}: " + ", ".join(f"{t} {n:,}" for t, n in rows))
    for title, key in (("document lengths", "document_length_histogram"),
                       ("df", "df_histogram")):
        hist = d[key]
        peak = max((n for _, n in hist), default=1)
        lines.append(f"{title} (log2 buckets):")
        lines += [f"  {b:>13} {n:>10,} {'#' * max(1, round(40 * n / peak))}" for b, n in hist]
    return lines


def plot(s: Stats, path: str) -> None:
    """Rank/frequency (Zipf) on log-log axes and the document-length histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    cf = sorted(s.cf, reverse=True)
    ax1.loglog(range(1, len(cf) + 1), cf, ".", markersize=2)
    ax1.set(title="Rank / frequency (Zipf)", xlabel="rank", ylabel="collection frequency")
    ax2.hist(s.lengths, bins=60)
    ax2.set(title="Document lengths", xlabel="indexed tokens", ylabel="documents")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
