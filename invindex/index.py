"""Reading and writing whole index directories on local disk.

Writing: parts go to a hidden temporary sibling; the manifest and then ``_SUCCESS``
are written there, and only then is the directory renamed into place, so an
interrupted build never leaves anything at the output path that looks complete.
Reading: a reader refuses an index without ``_SUCCESS`` and never loads a whole index;
a lookup bisects the sorted part(s) that can hold the term.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List

from . import integrity
from .core import counters, indexfmt
from .core.analysis import Analyzer
from .errors import InvindexError, NotFound


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OutputExists(InvindexError):
    pass


def staging_dir(output: Path, overwrite: bool) -> Path:
    """A fresh temporary directory beside ``output`` (same filesystem, so rename works)."""
    if output.exists() and not overwrite:
        raise OutputExists(f"output {output} already exists (use --overwrite to replace it)")
    output.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output.name}.tmp-", dir=output.parent))


def finish(staging: Path, output: Path, manifest: Dict[str, Any]) -> None:
    """Manifest (with each part's size and checksum), then ``_SUCCESS``, then the
    rename that makes the index visible."""
    manifest["part_files"] = integrity.part_files(
        manifest["parts"], lambda name: (staging / name).open("rb"))
    (staging / indexfmt.MANIFEST).write_bytes(indexfmt.dump_manifest(manifest))
    (staging / indexfmt.SUCCESS).write_bytes(b"")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp made it private; an index is not
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        output.rename(old)
    staging.rename(output)
    if old is not None:
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def list_parts(directory: Path) -> List[str]:
    return sorted(p.name for p in directory.iterdir()
                  if p.name.startswith("part-") and p.is_file())


@dataclass
class Counts:
    documents: int = 0
    tokens: int = 0
    terms: int = 0
    postings: int = 0
    bad_records: Dict[str, int] | None = None

    @classmethod
    def from_counters(cls, c: Dict[str, int]) -> Counts:
        """From a runner's job counters (``documents``, ..., ``bad_records.<kind>``)."""
        # documents: the document table's entries (distinct doc_ids) where the job
        # wrote one (format 2), else the records read.
        return cls(documents=c.get("table_documents", c.get("documents", 0)),
                   tokens=c.get("tokens", 0),
                   terms=c.get("terms", 0), postings=c.get("postings", 0),
                   bad_records=counters.bad_counts(c))

    def as_dict(self) -> Dict[str, Any]:
        bad = dict(sorted((self.bad_records or {}).items()))
        return {"documents": self.documents, "tokens": self.tokens, "terms": self.terms,
                "postings": self.postings, "bad_records": sum(bad.values()),
                "bad_records_by_kind": bad}


class _LocalIndexDir:
    """The few reads an ``IndexReader`` needs, on a local directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def read_manifest(self) -> bytes:
        try:
            return (self.path / indexfmt.MANIFEST).read_bytes()
        except FileNotFoundError:
            raise InvindexError(f"{self.path} has no {indexfmt.MANIFEST}") from None

    def size(self, name: str) -> int:
        return (self.path / name).stat().st_size

    def open(self, name: str) -> IO[bytes]:
        return open(self.path / name, "rb")


def _open_location(location: str) -> Any:
    """A local index directory, or an index at a cloud URI (read in place)."""
    from .storage.uri import parse_uri

    if "://" in location and not location.startswith("file://"):
        from .remote import open_index

        return open_index(location)
    path = Path(parse_uri(location).key) if location.startswith("file://") else Path(location)
    if not path.is_dir():
        raise NotFound(f"no index at {location}")
    if not (path / indexfmt.SUCCESS).exists():
        if not indexfmt.looks_like_index(p.name for p in path.iterdir()):
            raise InvindexError(f"{location} is not an invindex index (no "
                                f"{indexfmt.MANIFEST}, {indexfmt.SUCCESS} or part files)")
        raise InvindexError(f"{location} has no {indexfmt.SUCCESS}: the build that wrote it "
                            "did not finish; rebuild it")
    return _LocalIndexDir(path)


class IndexReader:
    """A finished index, local or at a cloud URI. ``lookup`` reads O(log n) of one part.

    Refuses an index without ``_SUCCESS``; never downloads a whole index: a lookup
    bisects the part(s) that can hold the term with seeks (ranged GETs in the cloud).
    """

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.location = str(location)
        self._dir = _open_location(self.location)
        try:
            self.manifest = indexfmt.load_manifest(self._dir.read_manifest())
        except ValueError as e:
            raise InvindexError(f"{self.location}/{indexfmt.MANIFEST}: {e}") from None
        self.analyzer = Analyzer.from_manifest(self.manifest["analyzer"])

    def file_size(self, name: str) -> int | None:
        """A file's size as stored (None when it is missing), unchecked."""
        return self._dir.size(name) if self._dir.exists(name) else None

    def open_file(self, name: str) -> IO[bytes]:
        """A file as stored, unchecked (``verify`` compares it itself)."""
        return self._dir.open(name)

    def part_size(self, name: str) -> int:
        """A part's size, refused when it is not the one the manifest records."""
        try:
            size = self._dir.size(name)
        except (FileNotFoundError, NotFound):
            raise integrity.damaged(self.location, f"{name} is missing") from None
        integrity.check_size(self.location, self.manifest, name, size)
        return size

    def open_part(self, name: str) -> IO[bytes]:
        """A part, opened after its size was checked against the manifest."""
        self.part_size(name)
        return self._dir.open(name)

    def lookup_line(self, term: str) -> str | None:
        """The raw index line for an already-analyzed term, or None; a damaged part
        or line is ``DamagedIndex``, never an answer."""
        for part in indexfmt.candidate_parts(self.manifest, term):
            size = self.part_size(part)
            with self._dir.open(part) as f:
                line = indexfmt.find_in_part(f, size, term)
            if line is not None:
                return integrity.check_line(self.location, self.manifest, part, line)
        return None

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
