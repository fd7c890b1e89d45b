"""Reading a finished index wherever it is (``IndexLocation``), without loading it.

A reader refuses an index without ``_SUCCESS``; a lookup bisects the sorted part(s)
that can hold the term with seeks (ranged GETs on an object store).
"""

from __future__ import annotations

import json
import os
from typing import IO, Any, Dict, Iterator, Tuple

from ..core import indexfmt
from ..core.analysis import Analyzer
from ..errors import InvindexError, NotFound
from . import integrity
from .location import IndexLocation, LocalLocation, NotFoundError, index_location


def open_location(location: str | os.PathLike[str] | IndexLocation,
                  **options: Any) -> IndexLocation:
    """The location of a finished index: ``NotFound`` when nothing is there,
    ``InvindexError`` when the build or upload that wrote it did not finish."""
    loc = location if isinstance(location, IndexLocation) else index_location(
        location, **options)
    if loc.has_success():
        return loc
    if isinstance(loc, LocalLocation):
        missing = not loc.path.is_dir()
    else:
        missing = not loc.names()
    if missing:
        raise NotFound(f"no index at {location}")
    if isinstance(loc, LocalLocation) and not indexfmt.looks_like_index(
            p.name for p in loc.path.iterdir()):
        raise InvindexError(f"{location} is not an invindex index (no "
                            f"{indexfmt.MANIFEST}, {indexfmt.SUCCESS} or part files)")
    raise InvindexError(f"{location} has no {indexfmt.SUCCESS}: the build or upload that "
                        "wrote it did not finish; rebuild it")


class IndexReader:
    """A finished index, local or at a cloud URI. ``lookup`` reads O(log n) of one part.

    Refuses an index without ``_SUCCESS``; never downloads a whole index: a lookup
    bisects the part(s) that can hold the term with seeks (ranged GETs in the cloud).
    ``location`` is a path, a URI or an ``IndexLocation``; ``.loc`` is the latter.
    """

    def __init__(self, location: str | os.PathLike[str] | IndexLocation) -> None:
        self.location = str(location)
        self.loc = open_location(location)
        try:
            self.manifest = indexfmt.load_manifest(self.loc.read_manifest())
        except ValueError as e:
            raise InvindexError(f"{self.location}/{indexfmt.MANIFEST}: {e}") from None
        self.analyzer = Analyzer.from_manifest(self.manifest["analyzer"])

    def file_size(self, name: str) -> int | None:
        """A file's size as stored (None when it is missing), unchecked."""
        return self.loc.size(name) if self.loc.exists(name) else None

    def open_file(self, name: str) -> IO[bytes]:
        """A file as stored, unchecked (``verify`` compares it itself)."""
        return self.loc.open(name)

    def part_size(self, name: str) -> int:
        """A part's size, refused when it is not the one the manifest records."""
        try:
            size = self.loc.size(name)
        except (FileNotFoundError, NotFoundError):
            raise integrity.damaged(self.location, f"{name} is missing") from None
        integrity.check_size(self.location, self.manifest, name, size)
        return size

    def open_part(self, name: str) -> IO[bytes]:
        """A part, opened after its size was checked against the manifest."""
        self.part_size(name)
        return self.loc.open(name)

    def lookup_line(self, term: str) -> str | None:
        """The raw index line for an already-analyzed term, or None; a damaged part
        or line is ``DamagedIndex``, never an answer."""
        found = self.find_line(term)
        return None if found is None else self.check_line(*found)

    def find_line(self, term: str) -> Tuple[str, bytes] | None:
        """``(part, line as stored)`` for an analyzed term, or None; the line is not
        checked yet: the caller checks it (``check_line``, or a check as strict)."""
        for part in indexfmt.candidate_parts(self.manifest, term):
            size = self.part_size(part)
            with self.loc.open(part) as f:
                line = indexfmt.find_in_part(f, size, term)
            if line is not None:
                return part, line
        return None

    def check_line(self, part: str, line: bytes) -> str:
        """``line`` of ``part`` as text; ``DamagedIndex`` when it is not a well-formed
        index line."""
        return integrity.check_line(self.location, self.manifest, part, line)

    def lookup(self, term: str) -> Dict[str, Any] | None:
        line = self.lookup_line(term)
        return None if line is None else json.loads(line.partition("\t")[2])

    def iter_head_lines(self, prefix: str) -> Iterator[str]:
        """Each part's leading lines whose key starts with ``prefix`` (the document
        table's ``!``: those sort first), reading no further into a part."""
        mark = prefix.encode("utf-8")
        for part in self.manifest["parts"]:
            with self.open_part(part) as f:
                for raw in f:
                    if not raw.startswith(mark):
                        break
                    yield raw.decode("utf-8").rstrip("\n")

    def iter_lines(self) -> Iterator[str]:
        for part in self.manifest["parts"]:
            with self.open_part(part) as f:
                yield from indexfmt.iter_part_lines(f)
