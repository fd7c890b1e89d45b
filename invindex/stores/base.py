"""What every serving store shares: URIs, names, versions, the publish loop, the reader.

A store holds an index's lines as ``key -> payload`` (the key is the term, or a
document-table ``!XXX`` / stored-text ``#doc_id`` pseudo-term; the payload is a term's
postings as binary arrays (``layout``), the other lines' JSON as is), plus the manifest
and ``@space``. So a term is one key lookup, the document table one key range (``!``),
and ``lookup`` prints the index's own line.

Versions make publishing atomic for readers: lines are loaded into a new version beside
the serving one, batch by batch, and a single write then points the name at it. Until
that write, readers see the previous version; a publish that fails or is killed leaves
an unreferenced version that the next publish of that name removes.
"""

from __future__ import annotations

import logging
import os
import re
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Tuple
from urllib.parse import parse_qsl, urlencode

from ..core.analysis import Analyzer
from ..core.doctable import DOC_TABLE, is_term
from ..core.indexfmt import load_manifest
from ..errors import InvindexError, NotFound, UsageError
from ..search.source import IndexDirSource
from . import convert, layout

log = logging.getLogger("invindex.stores")

STORE_FORMAT = 2  # the layout below; a store written with another one is refused
DEFAULT_NAME = "default"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
# Our own URI parameters, removed before the rest goes to the backend's client.
OWN_PARAMS = ("name", "iam", "region")


class StoreError(InvindexError):
    """A store that cannot be reached, read or written: one line, exit status 1."""


class StoreChanged(StoreError):
    """The version a reader was serving was replaced and removed: open the store again."""


@dataclass
class StoreURI:
    scheme: str
    target: str  # sqlite: a path; postgresql: a libpq URI; dynamodb: a table name
    name: str = DEFAULT_NAME
    params: Dict[str, str] = field(default_factory=dict)  # our own (iam, region)

    def display(self) -> str:
        """The URI as we print it: never with a password (we refuse those anyway)."""
        extra = {k: v for k, v in self.params.items() if v}
        if self.name != DEFAULT_NAME:
            extra["name"] = self.name
        sep = "&" if "?" in self.target else "?"
        target = self.target if self.scheme == "postgresql" else f"{self.scheme}://{self.target}"
        return target + (sep + urlencode(extra) if extra else "")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"index name {name!r}: use 1-48 letters, digits, '_' or '-'")
    return name


def split_params(uri: str) -> Tuple[str, Dict[str, str], Dict[str, str]]:
    """``uri`` without its query, our own parameters, and the backend's."""
    base, _, query = uri.partition("?")
    ours: Dict[str, str] = {}
    theirs: Dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        (ours if k in OWN_PARAMS else theirs)[k] = v
    return base, ours, theirs


def check_store_format(value: Any, where: str) -> None:
    if value is not None and int(value) > STORE_FORMAT:
        raise StoreError(f"{where} was written by a newer invindex (store format {value}; "
                         f"this one reads up to {STORE_FORMAT}): upgrade invindex")
    if value is not None and int(value) < STORE_FORMAT:
        raise StoreError(f"{where} was written by an older invindex (store format {value}): "
                         "publish the index to a new store")


def parse_manifest(text: str | bytes, where: str) -> Dict[str, Any]:
    try:
        return load_manifest(text.encode("utf-8") if isinstance(text, str) else text)
    except ValueError as e:
        raise StoreError(f"{where}: {e}") from None


def prefix_bound(prefix: str) -> str:
    """The least string above every string that starts with ``prefix`` (a non-empty one)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def missing_index(where: str, name: str) -> NotFound:
    return NotFound(f"{where} holds no index named {name!r} (publish one with "
                    f"`invindex publish INDEX {where} --name {name}`)")


class StoreReader:
    """An ``IndexReader`` look-alike over one published version (what ``IndexDirSource``,
    ``lookup`` and ``stats`` use): ``location``, ``manifest``, ``analyzer``,
    ``lookup_line``, ``iter_head_lines``, ``iter_lines``; and for the searcher,
    ``term_arrays`` and ``space``. Backends implement ``_get`` and ``_range``."""

    def __init__(self, location: str, manifest: Dict[str, Any]) -> None:
        self.location = location
        self.manifest = manifest
        self.analyzer = Analyzer.from_manifest(manifest["analyzer"])
        self._ids: List[str] | None = None
        self._space: Any = None

    def _get(self, key: str) -> bytes | None:
        raise NotImplementedError

    def _range(self, low: str, high: str | None) -> Iterator[Tuple[str, bytes]]:
        """``(key, payload)`` for low <= key < high (no bound when None), key order."""
        raise NotImplementedError

    def _line(self, key: str, payload: bytes) -> str:
        if is_term(key):
            if self._ids is None:
                self._ids = layout.doc_numbers(self.iter_head_lines(DOC_TABLE))
            return layout.json_line(key, payload, self._ids, self.analyzer.positions)
        return f"{key}\t{bytes(payload).decode('utf-8')}"

    def lookup_line(self, term: str) -> str | None:
        payload = self._get(term)
        return None if payload is None else self._line(term, payload)

    def iter_head_lines(self, prefix: str) -> Iterator[str]:
        for key, payload in self._range(prefix, prefix_bound(prefix)):
            yield f"{key}\t{bytes(payload).decode('utf-8')}"

    def iter_lines(self) -> Iterator[str]:
        for key, payload in self._range("", None):
            if not key.startswith("@"):
                yield self._line(key, payload)

    @property
    def space(self) -> Any:
        """The ``PositionSpace`` of all documents (phrases look terms up in it)."""
        if self._space is None:
            blob = self._get(layout.SPACE_KEY)
            if blob is None:
                raise StoreError(f"{self.location}: no {layout.SPACE_KEY} entry")
            self._space = layout.position_space(bytes(blob))
        return self._space

    def _get_many(self, keys: List[str]) -> Dict[str, bytes]:
        """The payloads of those of ``keys`` that exist (backends: in one request)."""
        return {k: v for k in keys if (v := self._get(k)) is not None}

    def term_arrays(self, term: str) -> Any:
        """The searcher's ``TermArrays`` for an analyzed term, straight from its bytes."""
        blob = self._get(term) if term and is_term(term) else None
        return layout.term_arrays(None if blob is None else bytes(blob), self.space)

    def many_term_arrays(self, terms: List[str]) -> Dict[str, Any]:
        """``term_arrays`` of each of ``terms`` (a query's), read together."""
        blobs = self._get_many([t for t in terms if t and is_term(t)])
        return {t: layout.term_arrays(None if blobs.get(t) is None else bytes(blobs[t]),
                                      self.space) for t in terms}

    def close(self) -> None:
        pass


class StoreSource(IndexDirSource):
    """The searcher's source over a store: ``IndexDirSource`` (document table, stored
    texts, postings) plus the binary fast path the ``ArrayIndex`` looks for."""

    def term_arrays(self, term: str) -> Any:
        return self.reader.term_arrays(term)

    def many_term_arrays(self, terms: List[str]) -> Dict[str, Any]:
        return self.reader.many_term_arrays(terms)

    @property
    def space(self) -> Any:
        return self.reader.space


class Loader:
    """One publish in progress: ``write`` batches of lines into the new version, then
    ``switch`` (one step) or ``abort``. Backends implement the three."""

    version: Any

    def write(self, rows: List[Tuple[str, bytes]]) -> None:
        raise NotImplementedError

    def switch(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


class Store:
    """A database that holds published indexes, each under a name."""

    def __init__(self, uri: StoreURI) -> None:
        self.uri = uri
        self.where = uri.display()

    def reader(self) -> StoreReader:
        raise NotImplementedError

    def begin(self, manifest: Dict[str, Any], replace: bool) -> Loader:
        """Check that publishing may proceed (``replace`` for an existing name), then
        make a new, invisible version to load into."""
        raise NotImplementedError

    def close(self) -> None:
        pass


@dataclass
class PublishReport:
    where: str
    name: str
    version: Any
    lines: int
    bytes: int
    seconds: float

    def text(self) -> str:
        mb = self.bytes / 1e6
        rate = mb / self.seconds if self.seconds > 0 else 0.0
        return (f"published {self.lines:,} lines ({mb:.1f} MB) to {self.where} as "
                f"{self.name!r} (version {self.version}) in {self.seconds:.1f} s "
                f"({rate:.1f} MB/s)")


def batch_limits() -> Tuple[int, int]:
    """Lines and bytes per batch; ``INVINDEX_PUBLISH_BATCH_LINES`` overrides the lines
    (small batches make the interrupted-publish test's kill land between batches)."""
    lines = int(os.environ.get("INVINDEX_PUBLISH_BATCH_LINES", "0") or 0)
    return (lines, 1 << 62) if lines > 0 else (50_000, 32 << 20)


def publish_jobs() -> int:
    """Worker processes that convert postings (``convert``): ``INVINDEX_PUBLISH_JOBS``,
    default one per CPU up to 4 (1: all in this process)."""
    return max(1, int(os.environ.get("INVINDEX_PUBLISH_JOBS", "0") or 0)
               or min(4, os.cpu_count() or 1))


def batches(rows: Iterable[Tuple[str, bytes, int]]
            ) -> Iterator[Tuple[List[Tuple[str, bytes]], int]]:
    """``(key, payload, line size)`` rows as ``([(key, payload), ...], bytes)`` batches."""
    max_lines, max_bytes = batch_limits()
    batch: List[Tuple[str, bytes]] = []
    size = 0
    for key, payload, line_size in rows:
        batch.append((key, payload))
        size += line_size
        if len(batch) >= max_lines or size >= max_bytes:
            yield batch, size
            batch, size = [], 0
    if batch:
        yield batch, size


class BatchWriter:
    """``loader.write`` in a thread of its own, one batch at a time, so that this thread
    keeps feeding the conversion workers while the database takes a batch (inserts,
    commits, fsyncs, the server's own work); an error there is raised here, at the next
    ``put`` or at ``join``. ``close`` waits for the batch being written: the loader is
    never used from two threads at once (abort and switch come after it)."""

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="invindex-publish-writer")
        self.pending: Future | None = None
        self.lines = self.bytes = self.batches = 0

    def put(self, batch: List[Tuple[str, bytes]], size: int) -> None:
        self.join()
        self.pending = self.pool.submit(self._write, batch, size)

    def _write(self, batch: List[Tuple[str, bytes]], size: int) -> None:
        self.loader.write(batch)
        self.batches += 1
        self.lines += len(batch)
        self.bytes += size
        log.info("loaded batch %d (%d lines, %d bytes in all)", self.batches, self.lines,
                 self.bytes)

    def join(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """On every way out: the batch being written finishes (its error, if any, is
        moot then), and the thread ends."""
        with suppress(Exception):
            self.join()
        self.pool.shutdown(wait=True)


def publish_index(store: Store, source: Any, replace: bool) -> PublishReport:
    """Load ``source`` (an ``IndexReader`` or a ``StoreReader``) into a new version,
    terms converted to binary arrays, and switch the name to it in one step."""
    start = time.monotonic()
    ids = layout.doc_numbers(source.iter_head_lines(DOC_TABLE))
    encoder = layout.Encoder(ids)
    loader = store.begin(source.manifest, replace)
    rows = convert.encode_rows(encoder, ids, source, publish_jobs())
    writer = BatchWriter(loader)
    try:
        for batch, size in batches(rows):
            writer.put(batch, size)
        writer.join()
        writer.close()
        loader.write([(layout.SPACE_KEY, encoder.space())])
        loader.switch()
    except BaseException:
        rows.close()  # stop the conversion workers before anything else
        writer.close()  # then let the batch being written finish: abort needs the loader
        try:
            loader.abort()
        except Exception as e:  # the next publish removes what is left
            log.warning("could not remove the unfinished version: %s", e)
        raise
    return PublishReport(store.where, store.uri.name, loader.version, writer.lines,
                         writer.bytes, time.monotonic() - start)
