"""What a searcher reads: the ``IndexSource`` protocol (its versions: ``source.IndexDirSource``
for an index directory or cloud prefix, ``stores.base.StoreSource`` for a serving store).

One searcher runs over anything that implements ``IndexSource``. The protocol is small on
purpose; every method is a read, and none of them needs the whole index.

Contract (every implementation keeps it, so results agree everywhere):

- ``manifest``: the index's manifest (``format_version`` >= 2: it has a document table);
  ``analyzer``: ``Analyzer.from_manifest(manifest["analyzer"])``, used on queries.
- ``documents()``: N, the number of documents (distinct doc_ids, including those with
  no indexed token); ``tokens()``: the sum of all document lengths.
- ``postings(term)``: the analyzed term's postings as ``(doc_id, tf, positions)``
  tuples in doc_id (code point) order; ``[]`` when the term is absent; ``positions``
  is an empty sequence for an index built without positions.
- ``doc_lengths()``: ``{doc_id: indexed tokens}`` for every document (what BM25 needs
  for ``dl``); ``doc_length(doc_id)``: one document's, or None when absent.
- ``stored_text(doc_id)``: the document's text when the index was built with
  ``--store-text`` (several records of one doc_id joined by a newline), else None.
"""

from __future__ import annotations

from typing import Any, Dict, Protocol, Sequence, Tuple, runtime_checkable

from ..core.analysis import Analyzer

Posting = Tuple[str, int, Sequence[int]]


@runtime_checkable
class IndexSource(Protocol):
    manifest: Dict[str, Any]
    analyzer: Analyzer

    def documents(self) -> int: ...

    def tokens(self) -> int: ...

    def postings(self, term: str) -> Sequence[Posting]: ...

    def doc_lengths(self) -> Dict[str, int]: ...

    def doc_length(self, doc_id: str) -> int | None: ...

    def stored_text(self, doc_id: str) -> str | None: ...
