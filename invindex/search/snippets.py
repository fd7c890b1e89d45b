"""Snippets: the fragment of a stored text around its best match, matches marked.

The text is analyzed with the index's analyzer, so a match is a token whose term is one
of the query's (stemmed, case-folded, ...), exactly what was scored. The fragment is
the window of about ``width`` characters holding the most distinct query terms (then
the most matches), cut at spaces. ``spans`` returns offsets, for callers that mark up
themselves (HTML escaping is theirs); ``snippet`` marks with plain strings.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Tuple

from ..core.analysis import TOKEN_RE, Analyzer

_SPACE = re.compile(r"\s+")
ELLIPSIS = "\u2026"


def spans(text: str, terms: Iterable[str], analyzer: Analyzer,
          width: int = 160) -> Tuple[int, int, List[Tuple[int, int]]]:
    """``(start, end, [(s, e), ...])``: the fragment's character range in ``text`` and
    the matched tokens' ranges inside it. When lowercasing changes the text's length
    (rare: e.g. 'İ'), offsets refer to ``text.lower()``."""
    wanted = set(terms)
    lowered = text.lower()
    toks = [(m.start(), m.end()) for m in TOKEN_RE.finditer(lowered)]
    hits = sorted((p, t) for t, ps in analyzer.term_positions(text).items() if t in wanted
                  for p in ps)
    if not hits:
        return 0, _cut_end(text, min(len(text), width)), []
    best, first = (-1, -1), hits[0][0]  # (distinct terms, matches) of the best window
    for i, (p, _) in enumerate(hits[:500]):
        inside = [t for q, t in hits[i:] if toks[q][1] <= toks[p][0] + width]
        if (len(set(inside)), len(inside)) > best:
            best, first = (len(set(inside)), len(inside)), p
    start = _cut_start(text, max(0, toks[first][0] - width // 5))
    end = _cut_end(text, min(len(text), start + width))
    marks = [toks[p] for p, _ in hits if toks[p][0] >= start and toks[p][1] <= end]
    return start, end, marks


def _cut_start(text: str, i: int) -> int:
    """Back to the start of the word ``i`` is in."""
    while 0 < i < len(text) and not text[i - 1].isspace():
        i -= 1
    return i


def _cut_end(text: str, i: int) -> int:
    """Forward to the end of the word ``i`` is in."""
    while 0 < i < len(text) and not text[i].isspace() and not text[i - 1].isspace():
        i += 1
    return i


def snippet(text: str, terms: Iterable[str], analyzer: Analyzer, width: int = 160,
            mark: Tuple[str, str] = ("**", "**")) -> str:
    """The fragment as one line, matches between ``mark``, '…' where text was cut."""
    start, end, marks = spans(text, terms, analyzer, width)
    base = text if len(text.lower()) == len(text) else text.lower()
    out, at = [], start
    for s, e in marks:
        out += [base[at:s], mark[0], base[s:e], mark[1]]
        at = e
    out.append(base[at:end])
    body = _SPACE.sub(" ", "".join(out)).strip()
    return (ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < len(text) else "")
