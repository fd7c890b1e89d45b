"""Snippets: the fragment of a stored text around its best match, matches marked.

The text is analyzed with the index's analyzer, so a match is a token whose term is one
of the query's (stemmed, case-folded, ...), exactly what was scored: every occurrence of
a term clause's term; of a phrase clause only the tokens where the whole phrase occurs
(its terms at their offsets, a removed token's slot kept). What to mark comes from the
query's plan (``highlight_of``); excluded clauses mark nothing. The fragment is the
window of about ``width`` characters holding the most distinct phrase clauses, then the
most distinct clauses, then the most marked tokens, cut at spaces. ``spans`` returns
offsets, for callers that mark up themselves (HTML escaping is theirs); ``snippet``
marks with plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import FrozenSet, Iterable, List, Tuple

from ..core.analysis import TOKEN_RE, Analyzer
from .plan import PhraseNode, PlanNode, TermNode
from .query import Occur

_SPACE = re.compile(r"\s+")
ELLIPSIS = "\u2026"
MAX_WINDOWS = 500  # candidate windows tried (each starts at a match)


@dataclass(frozen=True)
class Highlight:
    """What a snippet marks: every occurrence of ``terms``; of each phrase (``(term,
    offset from the first)`` pairs, as ``PhraseNode.terms``) the tokens of its
    occurrences only."""

    terms: FrozenSet[str] = frozenset()
    phrases: FrozenSet[Tuple[Tuple[str, int], ...]] = frozenset()


def highlight_of(node: PlanNode) -> Highlight:
    """The terms and phrases of a planned query's clauses that are not excluded."""
    if isinstance(node, TermNode):
        return Highlight(terms=frozenset([node.term]))
    if isinstance(node, PhraseNode):
        return Highlight(phrases=frozenset([node.terms]))
    parts = [highlight_of(c) for occ, c in node.clauses if occ is not Occur.MUST_NOT]
    return Highlight(frozenset().union(*(h.terms for h in parts)),
                     frozenset().union(*(h.phrases for h in parts)))


# A match: (its first position, the positions it marks, the clause it is of).
_Match = Tuple[int, Tuple[int, ...], object]


def _matches(text: str, wanted: Highlight, analyzer: Analyzer) -> List[_Match]:
    """The term clauses' occurrences and the phrases' occurrences in ``text``, in order."""
    positions = analyzer.term_positions(text)
    found: List[_Match] = [(p, (p,), t) for t in wanted.terms for p in positions.get(t, ())]
    for phrase in wanted.phrases:
        at = [set(positions.get(t, ())) for t, _ in phrase]
        for p in positions.get(phrase[0][0], ()):
            if all(p + off in ps for (_, off), ps in zip(phrase, at, strict=True)):
                found.append((p, tuple(p + off for _, off in phrase), phrase))
    return sorted(found, key=lambda m: (m[0], m[1]))


def spans(text: str, wanted: Highlight | Iterable[str], analyzer: Analyzer,
          width: int = 160) -> Tuple[int, int, List[Tuple[int, int]]]:
    """``(start, end, [(s, e), ...])``: the fragment's character range in ``text`` and
    the marked tokens' ranges inside it. ``wanted``: a ``Highlight``, or plain terms
    (each occurrence marked). When lowercasing changes the text's length (rare: e.g.
    'İ'), offsets refer to ``text.lower()``."""
    if not isinstance(wanted, Highlight):
        wanted = Highlight(terms=frozenset(wanted))
    toks = [(m.start(), m.end()) for m in TOKEN_RE.finditer(text.lower())]
    found = _matches(text, wanted, analyzer)
    if not found:
        return 0, _cut_end(text, min(len(text), width)), []
    best, first = None, found[0][0]
    for i, (p, _, _) in enumerate(found[:MAX_WINDOWS]):
        limit = toks[p][0] + width
        inside = [m for m in found[i:] if toks[m[1][-1]][1] <= limit]
        clauses = {key for _, _, key in inside}
        rank = (sum(isinstance(k, tuple) for k in clauses), len(clauses),
                len({q for _, ps, _ in inside for q in ps}))
        if best is None or rank > best:
            best, first = rank, p
    start = _cut_start(text, max(0, toks[first][0] - width // 5))
    end = _cut_end(text, min(len(text), start + width))
    marked = sorted({q for _, ps, _ in found for q in ps})
    return start, end, [toks[q] for q in marked if toks[q][0] >= start and toks[q][1] <= end]


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


def snippet(text: str, wanted: Highlight | Iterable[str], analyzer: Analyzer,
            width: int = 160, mark: Tuple[str, str] = ("**", "**")) -> str:
    """The fragment as one line, matches between ``mark``, '…' where text was cut."""
    start, end, marks = spans(text, wanted, analyzer, width)
    base = text if len(text.lower()) == len(text) else text.lower()
    out, at = [], start
    for s, e in marks:
        out += [base[at:s], mark[0], base[s:e], mark[1]]
        at = e
    out.append(base[at:end])
    body = _SPACE.sub(" ", "".join(out)).strip()
    return (ELLIPSIS if start > 0 else "") + body + (ELLIPSIS if end < len(text) else "")
