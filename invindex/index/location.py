"""One ``IndexLocation`` for every place an index can be: a local directory, an
s3/gs/az prefix (through ``invindex.storage``) or an HDFS path (through mrjob's
``hadoop fs`` wrapper).

A location is a flat set of named files (``part-00000``, ``_manifest.json``, ...)
with the few primitives the build, the commit protocol (``commit.py``) and the readers
need: list, read, ranged read (``open``), write, delete, and an atomic ``rename`` where
the backend has one (a local directory, HDFS). ``index_location`` is the one place that
decides, from the text the user typed, which kind a location is.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List
from urllib.parse import urlparse

from ..core import indexfmt
from ..errors import InvindexError
from ..progress import ProgressCallback
from .staging import staging_owner

# Schemes served by invindex.storage (aliases included); any other scheme is Hadoop's.
STORE_SCHEMES = ("s3", "s3a", "s3n", "gs", "gcs", "az", "azure", "wasb", "wasbs", "abfs",
                 "abfss")


def is_uri(text: str) -> bool:
    """True for a cloud or HDFS URI; False for a path or a ``file://`` URI."""
    return "://" in text and not text.startswith("file://")


def local_path(text: str) -> Path:
    """The path of a local location (a plain path or ``file:///...``)."""
    return Path(text.removeprefix("file://")) if text.startswith("file://") else Path(text)


class IndexLocation(ABC):
    """A directory-like place holding an index (or being built into)."""

    uri: str

    @abstractmethod
    def names(self) -> List[str]:
        """Every file below, as ``/``-separated names relative to the location."""

    @abstractmethod
    def size(self, name: str) -> int: ...

    @abstractmethod
    def read_bytes(self, name: str) -> bytes: ...

    @abstractmethod
    def open(self, name: str) -> IO[bytes]:
        """Seekable binary file (ranged reads where the backend has them)."""

    @abstractmethod
    def write_bytes(self, name: str, data: bytes) -> None: ...

    @abstractmethod
    def put_files(self, src: Path, names: Iterable[str],
                  callback: ProgressCallback | None = None) -> None:
        """Copy local files ``src/NAME`` here under the same names."""

    @abstractmethod
    def delete(self, name: str) -> None: ...

    @abstractmethod
    def remove(self) -> None:
        """Everything below, and the location itself where that means anything."""

    @abstractmethod
    def sibling(self, name: str) -> IndexLocation:
        """The location ``name`` beside this one (same bucket / directory)."""

    def exists(self, name: str) -> bool:
        try:
            self.size(name)
            return True
        except (OSError, NotFoundError):
            return False

    def rename(self, dest: IndexLocation) -> bool:
        """Move this whole location to ``dest`` (which must not exist) atomically;
        False when the backend cannot (object stores), and nothing was done."""
        return False

    # -- what readers need -------------------------------------------------------
    def has_success(self) -> bool:
        return self.exists(indexfmt.SUCCESS)

    def read_manifest(self) -> bytes:
        try:
            return self.read_bytes(indexfmt.MANIFEST)
        except (FileNotFoundError, NotFoundError):
            raise InvindexError(f"{self.uri} has no {indexfmt.MANIFEST}") from None

    def __str__(self) -> str:
        return self.uri


class NotFoundError(InvindexError):
    """A name that is not at the location."""


class LocalLocation(IndexLocation):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.uri = str(self.path)

    def names(self) -> List[str]:
        if not self.path.is_dir():
            return [self.path.name] if self.path.exists() else []
        out = []
        for root, _, files in os.walk(self.path):
            rel = Path(root).relative_to(self.path)
            out.extend((rel / f).as_posix() for f in files)
        return sorted(out)

    def size(self, name: str) -> int:
        return (self.path / name).stat().st_size

    def read_bytes(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def open(self, name: str) -> IO[bytes]:
        return open(self.path / name, "rb")

    def write_bytes(self, name: str, data: bytes) -> None:
        (self.path / name).write_bytes(data)

    def put_files(self, src: Path, names: Iterable[str],
                  callback: ProgressCallback | None = None) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(src / name, self.path / name)
            if callback:
                callback((src / name).stat().st_size)

    def delete(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def remove(self) -> None:
        if self.path.is_dir() and not self.path.is_symlink():
            shutil.rmtree(self.path, ignore_errors=True)
        elif self.path.exists() or self.path.is_symlink():
            self.path.unlink()

    def sibling(self, name: str) -> LocalLocation:
        return LocalLocation(self.path.parent / name)

    def rename(self, dest: IndexLocation) -> bool:
        if not isinstance(dest, LocalLocation):
            return False
        os.rename(self.path, dest.path)
        return True


class StoreLocation(IndexLocation):
    """A prefix of an s3/gs/az bucket, read in place: ``open`` gives a seekable file
    over ranged GETs (64 KiB blocks), which ``indexfmt.find_in_part`` bisects."""

    def __init__(self, uri: str, **options: Any) -> None:
        from ..storage import get_store, parse_uri

        self.uri = uri.rstrip("/")
        self._loc = parse_uri(self.uri)
        self._options = options
        self.store = get_store(self._loc, **options)
        self._prefix = self._loc.key.rstrip("/")
        self._infos: Dict[str, Any] = {}

    @property
    def prefix(self) -> str:
        """The key prefix within the bucket ("" for the bucket root), no ``/`` at the end."""
        return self._prefix

    def _key(self, name: str) -> str:
        return f"{self._prefix}/{name}" if self._prefix else name

    def names(self) -> List[str]:
        """The keys below the prefix; at a bucket root, without its build lock and its
        builds' staging prefixes (which a prefix's are beside it, never below)."""
        start = len(self._prefix) + 1 if self._prefix else 0
        return sorted(i.key[start:] for i in self.store.list(self._key(""))
                      if not i.is_dir and not i.key.endswith("/")
                      and (self._prefix or not self._root_own(i.key)))

    def _root_own(self, key: str) -> bool:
        """A key a build of the bucket root keeps in the root: its lock, its staging."""
        bucket = self.store.bucket
        segment, slash, _ = key.partition("/")
        return key == f".{bucket}.lock" or bool(slash and staging_owner(bucket, segment))

    def info(self, name: str) -> Any:
        from ..storage.errors import ObjectNotFound

        if name not in self._infos:
            try:
                self._infos[name] = self.store.info(self._key(name))
            except ObjectNotFound:
                raise NotFoundError(f"{self.uri}/{name} does not exist") from None
        return self._infos[name]

    def size(self, name: str) -> int:
        return self.info(name).size

    def read_bytes(self, name: str) -> bytes:
        from ..storage.errors import ObjectNotFound

        try:
            return self.store.read_bytes(self._key(name))
        except ObjectNotFound:
            raise NotFoundError(f"{self.uri}/{name} does not exist") from None

    def open(self, name: str) -> IO[bytes]:
        return self.store.open(self._key(name), self.info(name))

    def write_bytes(self, name: str, data: bytes) -> None:
        self._infos.pop(name, None)
        self.store.put_bytes(self._key(name), data)

    def put_files(self, src: Path, names: Iterable[str],
                  callback: ProgressCallback | None = None) -> None:
        from ..storage import get_store
        from ..storage.base import ObjectInfo
        from ..storage.transfer import Item, run_items

        local = get_store(str(src))
        items = [Item(local, ObjectInfo(str(src / n), (src / n).stat().st_size), self.store,
                      self._key(n)) for n in names]
        for n in names:
            self._infos.pop(n, None)
        run_items(items, callback)

    def copy_from(self, src: StoreLocation, names: Iterable[str],
                  callback: ProgressCallback | None = None) -> None:
        """Object to object: on the service when it can copy between the two
        (``storage.transfer``), else through a temporary file."""
        from ..storage.transfer import Item, run_items

        names = list(names)
        for n in names:
            self._infos.pop(n, None)
        run_items([Item(src.store, src.info(n), self.store, self._key(n)) for n in names],
                  callback)

    def delete(self, name: str) -> None:
        self._infos.pop(name, None)
        self.store.delete(self._key(name))

    def remove(self) -> None:
        for name in self.names():
            self.delete(name)

    def sibling(self, name: str) -> StoreLocation:
        parent = self.uri.rsplit("/", 1)[0] if self._prefix else self.uri
        return StoreLocation(f"{parent}/{name}", **self._options)


class HdfsLocation(IndexLocation):
    """An HDFS (or other Hadoop filesystem) directory, through ``hadoop fs``."""

    def __init__(self, uri: str, hadoop_bin: Any = None) -> None:
        from mrjob.fs.hadoop import HadoopFilesystem

        self.uri = uri.rstrip("/")
        self._hadoop_bin = hadoop_bin
        self.fs = HadoopFilesystem(hadoop_bin or None)

    def names(self) -> List[str]:
        if not self.fs.exists(self.uri):
            return []
        base = urlparse(self.uri).path.rstrip("/")
        return sorted(posixpath.relpath(urlparse(p).path, base) for p in self.fs.ls(self.uri))

    def size(self, name: str) -> int:
        if not self.fs.exists(f"{self.uri}/{name}"):
            raise NotFoundError(f"{self.uri}/{name} does not exist")
        return self.fs.du(f"{self.uri}/{name}")

    def read_bytes(self, name: str) -> bytes:
        if not self.fs.exists(f"{self.uri}/{name}"):
            raise NotFoundError(f"{self.uri}/{name} does not exist")
        return b"".join(self.fs.cat(f"{self.uri}/{name}"))

    def open(self, name: str) -> IO[bytes]:
        """The whole file (``hadoop fs`` has no ranged read)."""
        return io.BytesIO(self.read_bytes(name))

    def write_bytes(self, name: str, data: bytes) -> None:
        with tempfile.TemporaryDirectory(prefix="invindex-put-") as tmp:
            path = Path(tmp, name)
            path.write_bytes(data)
            self.fs.put(str(path), f"{self.uri}/{name}")

    def put_files(self, src: Path, names: Iterable[str],
                  callback: ProgressCallback | None = None) -> None:
        self.fs.mkdir(self.uri)
        for name in names:
            self.fs.put(str(src / name), f"{self.uri}/{name}")
            if callback:
                callback((src / name).stat().st_size)

    def delete(self, name: str) -> None:
        self.fs.rm(f"{self.uri}/{name}")

    def remove(self) -> None:
        self.fs.rm(self.uri)

    def sibling(self, name: str) -> HdfsLocation:
        return HdfsLocation(f"{self.uri.rsplit('/', 1)[0]}/{name}", self._hadoop_bin)

    def rename(self, dest: IndexLocation) -> bool:
        if not isinstance(dest, HdfsLocation):
            return False
        self.fs.invoke_hadoop(["fs", "-mv", self.uri, dest.uri])
        return True


def index_location(text: str | os.PathLike[str], hadoop_bin: Any = None,
                   **options: Any) -> IndexLocation:
    """The location the user named: a path or ``file://`` URI, an s3/gs/az URI
    (``options``: ``profile``/``project``/``account`` names), or any other ``scheme://``
    for Hadoop (``hdfs://``, ``viewfs://``, ...)."""
    text = str(text)
    if not is_uri(text):
        return LocalLocation(local_path(text))
    if text.split("://", 1)[0].lower() in STORE_SCHEMES:
        return StoreLocation(text, **options)
    return HdfsLocation(text, hadoop_bin)
