"""What a searcher reads: the ``IndexSource`` protocol, and its index-directory version.

One searcher runs over anything that implements ``IndexSource``: an index directory or
cloud prefix (``IndexDirSource`` below), or a serving store (SQLite, PostgreSQL,
DynamoDB) that holds the same postings and document table. The protocol is small on
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

import json
import os
from typing import Any, Dict, List, Protocol, Sequence, Tuple, runtime_checkable

from ..core.analysis import Analyzer
from ..core.doctable import DOC_TABLE, decode_text, doc_id_key, doc_table_key
from ..errors import InvindexError
from ..index import IndexReader

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


class NeedsRebuild(InvindexError):
    """A format 1 index: it has no document table, so it cannot be searched."""


def check_searchable(manifest: Dict[str, Any], where: str) -> None:
    version = int(manifest.get("format_version", 1))
    if version < 2:
        raise NeedsRebuild(
            f"{where} is an index of format {version}, which has no document table "
            "(document lengths) for scoring; rebuild it with this invindex to search it "
            "(`lookup` still reads it)")


def parse_payload(line: str) -> List[list]:
    """The postings of one index line ``key<TAB>{"df":..,"postings":[...]}``."""
    return json.loads(line.partition("\t")[2])["postings"]


class IndexDirSource:
    """``IndexSource`` over an index directory or a cloud prefix (through IndexReader).

    Terms are found by bisection (ranged reads in the cloud); the document table is
    read from the ``!`` lines at the head of each part, once, on first use.
    """

    def __init__(self, location: str | IndexReader) -> None:
        # A reader as given: an IndexReader, or a store's reader (invindex.stores).
        local = isinstance(location, (str, os.PathLike))
        self.reader = IndexReader(location) if local else location
        self.manifest = self.reader.manifest
        self.analyzer = self.reader.analyzer
        check_searchable(self.manifest, self.reader.location)
        self._lengths: Dict[str, int] | None = None

    def doc_lengths(self) -> Dict[str, int]:
        if self._lengths is None:
            lengths: Dict[str, int] = {}
            for line in self.reader.iter_head_lines(DOC_TABLE):
                lengths.update(parse_payload(line))
            self._lengths = lengths
        return self._lengths

    def documents(self) -> int:
        return len(self.doc_lengths())

    def tokens(self) -> int:
        return sum(self.doc_lengths().values())

    def doc_length(self, doc_id: str) -> int | None:
        if self._lengths is not None:
            return self._lengths.get(doc_id)
        line = self.reader.lookup_line(doc_table_key(doc_id))
        return None if line is None else dict(parse_payload(line)).get(doc_id)

    def postings(self, term: str) -> Sequence[Posting]:
        if not term or term[0] in "!#":
            return []
        line = self.reader.lookup_line(term)
        if line is None:
            return []
        return [(p[0], p[1], p[2] if len(p) > 2 else ()) for p in parse_payload(line)]

    def stored_text(self, doc_id: str) -> str | None:
        if not self.analyzer.store_text:
            return None
        line = self.reader.lookup_line(doc_id_key(doc_id))
        if line is None:
            return None
        return "\n".join(decode_text(blob) for blob, _ in parse_payload(line))
