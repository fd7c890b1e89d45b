"""BM25 as Lucene (>= 8) scores it, with exact document lengths (DESIGN.md, "Search").

``score(d) = sum over matching clauses c of IDF(c) * f / (f + k1 * (1 - b + b * dl / avgdl))``
with ``IDF = ln(1 + (N - df + 0.5) / (df + 0.5))`` for a term (a phrase: the sum of its
terms'), ``f`` the term's tf (a phrase: its occurrences) in d, ``dl`` d's indexed
tokens, ``avgdl`` = tokens / N. The expression order below is the one every scorer
(the array searcher, a store's SQL) follows, so scores agree to the last bit.
"""

from __future__ import annotations

import math

K1 = 0.9  # Anserini's defaults
B = 0.4


def idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def avgdl(tokens: int, n_docs: int) -> float:
    """Mean document length; 1.0 for an empty collection (no term can match then)."""
    return tokens / n_docs if n_docs and tokens else 1.0


def length_norm(dl: float, avg: float, k1: float = K1, b: float = B) -> float:
    """``k1 * (1 - b + b * dl / avgdl)``: the part of the denominator that depends on d."""
    return k1 * (1 - b + b * dl / avg)


def clause_score(weight: float, f: float, norm: float) -> float:
    """One matching clause's contribution: ``weight`` is its IDF, ``norm`` the doc's."""
    return weight * f / (f + norm)
