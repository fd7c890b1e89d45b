"""A brute-force searcher written from DESIGN.md's "Search" alone: the test oracle.

It scores every document by the formula, one Python float at a time, over a corpus
held in memory and a query given as a tree of items (so it needs no parser of its own:
the tests render the tree to a query string for ``invindex search``). Independent of
``invindex``: its own tokenizer, its own occurrence rules (Lucene's addClause).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Sequence, Set, Tuple

TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Item:
    conj: str | None  # None, "AND", "OR"
    mod: str  # "", "+", "-", "NOT"
    kind: str  # "word", "phrase", "group"
    value: object  # str for word/phrase, tuple of Items for group


def render(items: Sequence[Item]) -> str:
    out = []
    for it in items:
        s = ""
        if it.conj:
            s += it.conj + " "
        s += {"": "", "+": "+", "-": "-", "NOT": "NOT "}[it.mod]
        if it.kind == "word":
            s += it.value
        elif it.kind == "phrase":
            s += '"' + it.value + '"'
        else:
            s += "(" + render(it.value) + ")"
        out.append(s)
    return " ".join(out)


class Corpus:
    def __init__(self, records: List[Tuple[str, str]], stopwords: Set[str]) -> None:
        self.stop = stopwords
        self.pos: Dict[str, Dict[str, List[int]]] = defaultdict(lambda: defaultdict(list))
        self.dl: Dict[str, int] = defaultdict(int)
        for doc_id, text in records:
            self.dl[doc_id] += 0
            for i, tok in enumerate(TOKEN.findall(text.lower())):
                if tok in stopwords:
                    continue
                self.pos[doc_id][tok].append(i)
                self.dl[doc_id] += 1
        self.n = len(self.dl)
        self.avgdl = (sum(self.dl.values()) / self.n) if self.n and sum(
            self.dl.values()) else 1.0

    def analyze(self, text: str) -> List[Tuple[str, int]]:
        return [(t, i) for i, t in enumerate(TOKEN.findall(text.lower())) if t not in self.stop]

    def df(self, term: str) -> int:
        return sum(1 for d in self.dl if term in self.pos[d])

    def idf(self, term: str) -> float:
        df = self.df(term)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def clause(self, weight: float, f: int, d: str, k1: float, b: float) -> float:
        return weight * f / (f + k1 * (1 - b + b * self.dl[d] / self.avgdl))


def search(corpus: Corpus, items: Sequence[Item], k1: float = 0.9,
           b: float = 0.4) -> Dict[str, float]:
    """doc_id -> score of every matching document."""
    clauses = _clauses(corpus, items)
    return {d: s for d in corpus.dl if (s := _group(corpus, clauses, d, k1, b)) is not None}


def _clauses(corpus: Corpus, items: Sequence[Item]) -> List[Tuple[str, tuple]]:
    units: List[list] = []
    for it in items:
        if it.kind == "word":
            nodes = [("term", t) for t, _ in corpus.analyze(it.value)]
        elif it.kind == "phrase":
            pairs = corpus.analyze(it.value)  # one token: that term (Lucene's rewrite)
            nodes = [("phrase", tuple((t, p - pairs[0][1]) for t, p in pairs))] if len(
                pairs) > 1 else [("term", t) for t, _ in pairs]
        else:
            sub = _clauses(corpus, it.value)
            nodes = [("group", sub)] if sub else []
        if it.conj == "AND" and units and units[-1][0] != "-":
            units[-1][0] = "+"
        if not nodes:
            continue
        occ = "+" if it.mod == "+" else "-" if it.mod in ("-", "NOT") else ""
        if it.conj == "AND" and occ == "":
            occ = "+"
        units.append([occ, nodes])
    return [(occ, n) for occ, nodes in units for n in nodes]


def _node(corpus: Corpus, node: tuple, d: str, k1: float, b: float) -> float | None:
    kind, value = node
    if kind == "term":
        f = len(corpus.pos[d].get(value, ()))
        return corpus.clause(corpus.idf(value), f, d, k1, b) if f else None
    if kind == "phrase":
        sets = [(set(corpus.pos[d].get(t, ())), off) for t, off in value]
        starts = set.intersection(*({p - off for p in s if p >= off} for s, off in sets))
        if not starts:
            return None
        weight = sum(corpus.idf(t) for t, _ in value)
        return corpus.clause(weight, len(starts), d, k1, b)
    return _group(corpus, value, d, k1, b)


def _group(corpus: Corpus, clauses, d: str, k1: float, b: float) -> float | None:
    results = [(occ, _node(corpus, n, d, k1, b)) for occ, n in clauses]
    if any(occ == "-" and r is not None for occ, r in results):
        return None
    required = [r for occ, r in results if occ == "+"]
    if required:
        if any(r is None for r in required):
            return None
    elif not any(r is not None for occ, r in results if occ == ""):
        return None
    score = 0.0
    for occ, r in results:
        if occ != "-" and r is not None:
            score += r
    return score
