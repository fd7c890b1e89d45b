"""The fast engine's document-table and stored-text run lines (see ``core.doctable``).

The streaming job gets these lines by reducing the mapper's ``!``/``#`` intermediate
lines; the fast engine writes the same reduced postings straight into a batch's run
(``key<TAB>df<TAB>postings``), and its merge treats them as any term's pieces.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from json.encoder import encode_basestring
from typing import Dict, List, Sequence, Tuple

from ..core.doctable import doc_id_key, doc_table_key, encode_text


def doc_run_lines(doc_ids: Sequence[str], lengths: Sequence[int],
                  texts: Sequence[Sequence[str]] | None = None) -> Tuple[List[str], List[str]]:
    """(keys, run lines) for one batch's documents, in key order.

    ``doc_ids`` are distinct and sorted; ``lengths`` their indexed tokens; ``texts``
    (only with --store-text) each document's record texts.
    """
    buckets: Dict[str, List[str]] = defaultdict(list)
    for doc_id, n in zip(doc_ids, lengths, strict=True):
        buckets[doc_table_key(doc_id)].append(f"[{encode_basestring(doc_id)},{n}]")
    keys = sorted(buckets)
    lines = [f"{k}\t{len(buckets[k])}\t{','.join(buckets[k])}" for k in keys]
    if texts is not None:
        text_keys, text_lines = text_run_lines(doc_ids, texts)
        keys += text_keys
        lines += text_lines
    return keys, lines


def text_run_lines(doc_ids: Sequence[str], texts: Sequence[Sequence[str]]
                   ) -> Tuple[List[str], List[str]]:
    """(keys, run lines) of the stored texts (--store-text), after the table's."""
    keys: List[str] = []
    lines: List[str] = []
    for doc_id, doc_texts in zip(doc_ids, texts, strict=True):
        blobs = sorted(Counter(encode_text(t) for t in doc_texts).items())
        key = doc_id_key(doc_id)
        keys.append(key)
        lines.append(f"{key}\t{len(blobs)}\t" + ",".join(
            f'["{b}",{n}]' for b, n in blobs))
    return keys, lines
