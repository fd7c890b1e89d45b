"""``Searcher``: a query string in, the ``k`` best documents out, over any IndexSource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

import numpy as np

from ..core import scoring
from ..errors import UsageError
from .arrays import ArrayIndex
from .evaluate import Evaluator, top_k
from .plan import GroupNode, plan, terms_of
from .query import parse
from .snippets import Highlight, highlight_of, snippet
from .source import IndexSource


@dataclass
class Hit:
    doc_id: str
    score: float
    snippet: str | None = None


@dataclass
class Results:
    query: str
    total: int  # documents matched
    hits: List[Hit] = field(default_factory=list)
    terms: List[str] = field(default_factory=list)  # the analyzed terms that score
    highlight: Highlight = field(default_factory=Highlight)  # what a snippet marks

    def as_dict(self) -> Dict[str, Any]:
        return {"query": self.query, "total": self.total, "hits": [
            {"rank": i, "doc_id": h.doc_id, "score": h.score,
             **({"snippet": h.snippet} if h.snippet is not None else {})}
            for i, h in enumerate(self.hits, 1)]}


class Searcher:
    """Parses, analyzes with the index's analyzer, matches and ranks (BM25).

    ``index`` defaults to an ``ArrayIndex`` that reads ``source`` term by term; a
    ``compact.CompactIndex`` (the same interface, from a local cache) is faster.
    """

    def __init__(self, source: IndexSource, k1: float = scoring.K1, b: float = scoring.B,
                 index: Any = None) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise UsageError("BM25 needs k1 >= 0 and 0 <= b <= 1")
        self.source = source
        self.index = index if index is not None else ArrayIndex(source)
        table = self.index.table
        avg = scoring.avgdl(table.tokens, table.n)
        norms = k1 * (1 - b + b * table.lengths / avg)  # = scoring.length_norm per doc
        self.evaluator = Evaluator(self.index.term, table.n, np.asarray(norms, np.float64),
                                   getattr(self.index, "space", None))

    def plan(self, query: str) -> GroupNode:
        return plan(parse(query), self.source.analyzer)

    def search(self, query: str, k: int = 10, snippets: bool = False,
               mark: Tuple[str, str] = ("**", "**")) -> Results:
        """The ``k`` best; ``snippets``: with a fragment of each hit's stored text
        (an index built with --store-text), matches between ``mark``."""
        if snippets and not self.source.analyzer.store_text:
            raise UsageError("this index has no stored texts for snippets: build it "
                             "with --store-text")
        tree = self.plan(query)
        if hasattr(self.index, "prefetch"):  # a store: the query's terms in one request
            self.index.prefetch(terms_of(tree))
        docs, scores = self.evaluator.evaluate(tree)
        ids = self.index.table.ids
        best = top_k(docs, scores, k)
        hits = [Hit(ids[int(docs[i])], float(scores[i])) for i in best]
        terms, highlight = terms_of(tree), highlight_of(tree)
        if snippets:
            for hit in hits:
                text = self.source.stored_text(hit.doc_id)
                hit.snippet = None if text is None else snippet(
                    text, highlight, self.source.analyzer, mark=mark)
        return Results(query, len(docs), hits, terms, highlight)
