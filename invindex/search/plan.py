"""From the parsed query to what is evaluated: words and phrases analyzed into terms.

- Occurrence (Lucene's ``addClause`` with the default operator OR): ``+`` required,
  ``-``/``NOT`` excluded, else optional; ``AND`` makes the clause after it required
  (unless excluded) and the clause before it too (unless excluded), where "the clause
  before" is the last one that did not vanish in analysis, as in Lucene.

- A word gives one term clause per token, each with the word's occurrence; a word the
  analyzer removes entirely gives none.
- A phrase keeps each token's position relative to the first kept token, so a removed
  token (a stopword, a too-short token) keeps its slot and the gap must match. A phrase
  of one token is that term's clause (Lucene rewrites it to a TermQuery: same score).
- A group whose clauses all vanished vanishes too (Lucene drops the empty query).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

from ..core.analysis import Analyzer, analyze_pairs
from ..errors import UsageError
from .query import Clause, Node, Occur, Phrase, Word


@dataclass(frozen=True)
class TermNode:
    term: str


@dataclass(frozen=True)
class PhraseNode:
    terms: Tuple[Tuple[str, int], ...]  # (term, offset from the first term), offset order


@dataclass(frozen=True)
class GroupNode:
    clauses: Tuple[Tuple[Occur, PlanNode], ...]


PlanNode = TermNode | PhraseNode | GroupNode


def plan(clauses: Tuple[Clause, ...], analyzer: Analyzer) -> GroupNode:
    """The evaluable tree of a parsed query; raises UsageError for a phrase on an index
    without positions."""
    units: List[Tuple[Occur, List[PlanNode]]] = []  # one per word/phrase/group kept
    for clause in clauses:
        nodes = _analyze(clause.node, analyzer)
        if clause.conj == "AND" and units and units[-1][0] is not Occur.MUST_NOT:
            units[-1] = (Occur.MUST, units[-1][1])
        if not nodes:
            continue
        occur = clause.occur
        if clause.conj == "AND" and occur is Occur.SHOULD:
            occur = Occur.MUST
        units.append((occur, nodes))
    return GroupNode(tuple((occur, n) for occur, nodes in units for n in nodes))


def _analyze(node: Node, analyzer: Analyzer) -> List[PlanNode]:
    """A word's term nodes, a phrase's node, a group's node; [] when it vanishes."""
    if isinstance(node, Word):
        return [TermNode(t) for t in analyzer.terms(node.text)]
    if isinstance(node, Phrase):
        pairs = analyze_pairs(analyzer, node.text)
        if len(pairs) <= 1:
            return [TermNode(t) for t, _ in pairs]
        if not analyzer.positions:
            raise UsageError(f'phrase "{node.text}" needs positions, and this index '
                             "was built with --no-positions")
        first = pairs[0][1]
        return [PhraseNode(tuple((t, p - first) for t, p in pairs))]
    sub = plan(node.clauses, analyzer)
    return [sub] if sub.clauses else []


def terms_of(node: PlanNode) -> List[str]:
    """Every term the node reads (for highlighting and prefetching), query order."""
    if isinstance(node, TermNode):
        return [node.term]
    if isinstance(node, PhraseNode):
        return [t for t, _ in node.terms]
    return [t for occ, c in node.clauses if occ is not Occur.MUST_NOT for t in terms_of(c)]
