"""Search results as text (for people), tsv, trec (trec_eval, ir_measures) and json.

Scores print ``%.6f`` in tsv and trec; json keeps the float. With ``--queries``, tsv
lines start with the query id and json is one object per query per line (JSON Lines).
"""

from __future__ import annotations

import json
from typing import List

from .searcher import Results


def format_results(results: Results, fmt: str, qid: str | None = None) -> List[str]:
    """The output lines for one query's results; ``qid`` is None for a single query."""
    hits = list(enumerate(results.hits, 1))
    if fmt == "tsv":
        head = "" if qid is None else f"{qid}\t"
        return [f"{head}{rank}\t{h.doc_id}\t{h.score:.6f}" for rank, h in hits]
    if fmt == "trec":
        q = "1" if qid is None else qid
        return [f"{q} Q0 {h.doc_id} {rank} {h.score:.6f} invindex" for rank, h in hits]
    if fmt == "json":
        d = results.as_dict()
        if qid is not None:
            d = {"qid": qid, **d}
        return [json.dumps(d, ensure_ascii=False)]
    shown = f" (the best {len(hits)})" if len(hits) < results.total else ""
    lines = [f"{'' if qid is None else qid + ': '}{results.total:,} document(s) match "
             f"{results.query!r}{shown}"]
    width = len(str(len(hits)))
    for rank, h in hits:
        lines.append(f"{rank:>{width}}. {h.score:9.4f}  {h.doc_id}")
        if h.snippet:
            lines.append(" " * (width + 13) + h.snippet)
    return lines
