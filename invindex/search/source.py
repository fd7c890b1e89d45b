"""The index-directory version of what a searcher reads (``protocol.IndexSource``): an
index directory or cloud prefix; a serving store (SQLite, PostgreSQL, DynamoDB) holds the
same postings and document table (``stores.base.StoreSource`` builds on this class).
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Sequence

from ..core.doctable import DOC_TABLE, decode_text, doc_id_key, doc_table_key
from ..errors import InvindexError
from ..index import IndexReader
from .protocol import IndexSource, Posting

if TYPE_CHECKING:
    from .termarrays import TermArrays

__all__ = ["IndexDirSource", "IndexSource", "NeedsRebuild", "Posting", "check_searchable",
           "parse_payload"]


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
    read from the ``!`` lines at the head of each part, once, on first use. The
    searcher reads a term through ``term_arrays``: its line straight to arrays
    (``jsonline``), with no Python object per posting.
    """

    def __init__(self, location: str | IndexReader) -> None:
        # A reader as given: an IndexReader, or a store's reader (invindex.stores).
        local = isinstance(location, (str, os.PathLike))
        self.reader = IndexReader(location) if local else location
        self.manifest = self.reader.manifest
        self.analyzer = self.reader.analyzer
        check_searchable(self.manifest, self.reader.location)
        self._lengths: Dict[str, int] | None = None
        self._numbers: Dict[str, int] | None = None  # doc_id -> number (code point order)
        self._json_numbers: Dict[bytes, int] | None = None  # the same, as written

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

    def term_arrays(self, term: str) -> TermArrays:
        """The searcher's arrays of an analyzed term (``arrays.ArrayIndex`` uses them):
        the line as stored, parsed at numpy speed when it is canonical, else checked
        (``DamagedIndex`` names the damage) and decoded with ``json``."""
        # numpy is the search extra's: the other commands import this module without it
        from .jsonline import json_numbers, line_arrays
        from .termarrays import EMPTY, postings_arrays

        if not term or term[0] in "!#":
            return EMPTY
        if self._numbers is None:
            ids = sorted(self.doc_lengths())
            self._numbers = {d: i for i, d in enumerate(ids)}
            self._json_numbers = json_numbers(ids)
        if not isinstance(self.reader, IndexReader):  # a store's reader given as is
            return postings_arrays(self.postings(term), self._numbers)
        found = self.reader.find_line(term)
        if found is None:
            return EMPTY
        assert self._json_numbers is not None
        arrays = line_arrays(found[1], self._json_numbers, self.analyzer.positions)
        if arrays is not None:
            return arrays
        line = self.reader.check_line(*found)
        return postings_arrays([(p[0], p[1], p[2] if len(p) > 2 else ())
                                for p in parse_payload(line)], self._numbers)

    def stored_text(self, doc_id: str) -> str | None:
        if not self.analyzer.store_text:
            return None
        line = self.reader.lookup_line(doc_id_key(doc_id))
        if line is None:
            return None
        return "\n".join(decode_text(blob) for blob, _ in parse_payload(line))
