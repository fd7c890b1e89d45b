"""The benchmarks' real-text corpus, rebuilt from ../shared/corpora alone.

The corpora (``*.tsv.gz``: the King James Bible and the fortune-cookie corpus) are
concatenated in name order, again and again, each copy's doc_ids prefixed ``c<copy>:``
so that every document is distinct: ``--repeat 7`` is the 53 MB corpus of the README's
table, ``--repeat 20`` the ~154 MB one; ``--real-mb 50`` the first 50 MB of that mix,
cut at a line end.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent


def default_corpora() -> List[Path]:
    """../shared/corpora/*.tsv.gz beside the checkout (or a worktree's checkout)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        found = sorted((base / "shared" / "corpora").glob("*.tsv.gz"))
        if found:
            return found
    raise SystemExit("no corpora in ../shared/corpora: give --corpus FILE")


def repeat_corpus(sources: List[Path], out: Path, copies: int | None = None,
                  mb: float | None = None, cut: bool = False) -> Path:
    """Write ``copies`` copies of ``sources`` (or whole copies until ``mb`` MB, or with
    ``cut`` exactly the lines that start before ``mb`` MB) to ``out``; kept if present."""
    if out.exists():
        return out
    if not sources:
        raise SystemExit("no corpus to repeat")
    want = mb * 1e6 if mb else float("inf")
    tmp = out.with_name(out.name + ".part")
    copy = 0
    with open(tmp, "wb") as f:
        while (copies is None or copy < copies) and f.tell() < want:
            for src in sources:
                opener = gzip.open if src.suffix == ".gz" else open
                with opener(src, "rb") as g:
                    for line in g:
                        if cut and f.tell() >= want:
                            break
                        if not line.endswith(b"\n"):
                            line += b"\n"
                        f.write(b"c%d:" % copy + line)
            copy += 1
    tmp.replace(out)
    return out
