"""The Store interface every backend implements, and what they share.

In the spirit of fsspec's ``AbstractFileSystem``: a handful of primitives per backend
(``list``, ``info``, ``read_range``, ``put_file``, ``get_file``, ``delete``,
``make_bucket``, and optionally ``server_copy``, fsspec's ``cp_file``, and the
conditional ``put_bytes_if`` / ``delete_if`` a lock is made of); everything else
(``open``, ``exists``, copying between stores, ``sync``) is built on them once. A Store
is one bucket (container; for ``file`` the whole local filesystem) and keys are strings
inside it. Progress is reported through one callback type, ``Callable[[int], None]``,
called with bytes just moved.
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Dict, Iterator

from .checksum import file_digests
from .errors import ConditionsUnavailable, IntegrityError, ObjectNotFound, ServerCopyUnavailable
from .uri import URI

Callback = Callable[[int], None] | None


@dataclass(frozen=True)
class ObjectInfo:
    """One object: key within its bucket, size, and whatever digests the service knows.

    ``md5``/``crc32c`` are lowercase hex or None; ``etag`` is the service's opaque
    version tag (an S3 multipart ETag is checked with its part size). ``is_dir`` marks
    a common prefix in a non-recursive listing.
    """

    key: str
    size: int
    md5: str | None = None
    crc32c: str | None = None
    etag: str | None = None
    mtime: float | None = None
    is_dir: bool = False


def _env_retries() -> int:
    return int(os.environ.get("INVINDEX_STORAGE_RETRIES", "8"))


@dataclass(frozen=True)
class Settings:
    """Transfer tuning shared by the backends (multipart/block/chunk sizes, threads)."""

    part_size: int = 8 << 20          # S3 multipart chunk, Azure block, GCS resumable chunk
    threshold: int = 8 << 20          # below this: one request
    concurrency: int = 4              # parts/blocks in flight per object
    # retries on throttling, 5xx, dropped connections (and Azure's corrupt responses)
    retries: int = field(default_factory=_env_retries)


class Store(ABC):
    """One bucket of one backend. Thread-safe: transfers run in a thread pool."""

    scheme: str = ""

    def __init__(self, uri: URI, settings: Settings | None = None) -> None:
        self.bucket = uri.bucket
        self.account = uri.account
        self.settings = settings or Settings()
        self.no_server_copy: str | None = None  # why the service could not copy (not asked again)

    # -- primitives --------------------------------------------------------------------
    @abstractmethod
    def list(self, prefix: str, recursive: bool = True) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``; not recursive: one level below the
        last ``/`` (common prefixes come back with ``is_dir``)."""

    @abstractmethod
    def info(self, key: str) -> ObjectInfo:
        """The object's size and digests; ``ObjectNotFound`` if absent."""

    @abstractmethod
    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Bytes ``[start, start+length)`` (fewer at the end): one ranged GET."""

    @abstractmethod
    def put_file(self, path: str | os.PathLike[str], key: str,
                 callback: Callback = None) -> ObjectInfo:
        """Upload a whole file, verified against its local MD5 (and CRC32C where kept).

        An object appears whole or not at all; on a digest mismatch the object is
        deleted and ``IntegrityError`` raised."""

    @abstractmethod
    def _download(self, info: ObjectInfo, dest: str, callback: Callback) -> None:
        """Write the object's bytes to ``dest`` (a temporary name)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object (absent is fine)."""

    @abstractmethod
    def make_bucket(self) -> None:
        """Create the bucket/container: private, encrypted at rest."""

    # -- conditional writes (the cloud backends override both) ----------------------------
    def put_bytes_if(self, key: str, data: bytes, match: str | None = None) -> ObjectInfo:
        """Write a small object only if it is absent (``match`` None: S3 ``If-None-Match:
        *``, GCS ``ifGenerationMatch=0``, Azure ``If-None-Match: *``), or only if it is
        still the version ``match`` (an ``etag`` this returned or ``info`` gave: S3/Azure
        ``If-Match``, GCS ``ifGenerationMatch``). The service decides atomically: of two
        such writes racing, one wins. Returns the new object (its ``etag`` names this
        version); raises ``PreconditionFailed`` when the condition does not hold
        (``ObjectNotFound`` may stand for it when ``match`` names a deleted object) and
        ``ConditionsUnavailable`` when the service has no conditional writes."""
        raise ConditionsUnavailable(f"{self.scheme}:// has no conditional writes")

    def delete_if(self, key: str, match: str) -> None:
        """Delete the object only if it is still the version ``match``: absent is fine,
        another version raises ``PreconditionFailed`` (and stays)."""
        raise ConditionsUnavailable(f"{self.scheme}:// has no conditional deletes")

    # -- server-side copy (backends that have one override both) -------------------------
    def server_copy_source(self, src: Store) -> bool:
        """Whether this store's service can copy ``src``'s objects into it by itself: the
        same provider, and a source the destination's credentials can name. Decided
        without a request, so progress totals can be planned."""
        return False

    def server_copy(self, src: Store, info: ObjectInfo, key: str,
                    callback: Callback = None) -> ObjectInfo:
        """Copy ``src``'s object ``info`` to ``key`` on the service, verified as
        ``put_file`` verifies an upload (size, and digests where the service states
        comparable ones); the object appears whole or not at all. Raises
        ``ServerCopyUnavailable`` when the service cannot (the caller copies through
        this machine)."""
        raise ServerCopyUnavailable(f"{self.scheme}:// has no server-side copy")

    def check_copy(self, src: ObjectInfo, got: ObjectInfo, expected: Dict[str, str]) -> None:
        """After a server-side copy: ``got`` must have ``src``'s size and each digest
        in ``expected``; otherwise the copy is deleted and ``IntegrityError`` raised."""
        bad = [f"{k} {getattr(got, k)} (expected {v})" for k, v in expected.items()
               if getattr(got, k) is not None and getattr(got, k) != v]
        if got.size != src.size:
            bad.insert(0, f"{got.size} bytes (expected {src.size})")
        if bad:
            self.delete(got.key)
            raise IntegrityError(f"{self.uri(got.key)}: the service's copy has "
                                 f"{', '.join(bad)}; object removed")

    # -- built on the primitives -------------------------------------------------------
    def uri(self, key: str = "") -> str:
        return f"{self.scheme}://{self.bucket}/{key}"

    def exists(self, key: str) -> bool:
        try:
            self.info(key)
            return True
        except ObjectNotFound:
            return False

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Small objects (``_SUCCESS``, manifests) through the same verified path."""
        with tempfile.TemporaryDirectory(prefix="invindex-put-") as tmp:
            path = os.path.join(tmp, "object")
            with open(path, "wb") as f:
                f.write(data)
            return self.put_file(path, key)

    def read_bytes(self, key: str) -> bytes:
        size = self.info(key).size
        return self.read_range(key, 0, size) if size else b""

    def get_file(self, key: str, path: str | os.PathLike[str], callback: Callback = None,
                 info: ObjectInfo | None = None) -> ObjectInfo:
        """Download to a temporary name beside ``path``, verify, then rename into place."""
        info = info or self.info(key)
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with temp_beside(dest) as tmp:
            self._download(info, tmp, callback)
            self.verify_file(tmp, info)
            replace_as_cp(tmp, dest)
        return info

    def verify_file(self, path: str, info: ObjectInfo) -> None:
        """Raise ``IntegrityError`` unless the local file matches the object's digests."""
        actual_size = os.path.getsize(path)
        if actual_size != info.size:
            raise IntegrityError(f"{self.uri(info.key)}: got {actual_size} bytes, "
                                 f"expected {info.size}")
        kinds = [k for k in ("md5", "crc32c") if getattr(info, k)]
        if not kinds:
            return
        got = file_digests(path, kinds)
        for kind in kinds:
            if got[kind] != getattr(info, kind):
                raise IntegrityError(f"{self.uri(info.key)}: {kind} mismatch (got {got[kind]}, "
                                     f"the service says {getattr(info, kind)}): "
                                     "corrupted in transit; nothing was written")

    def open(self, key: str, info: ObjectInfo | None = None,
             block_size: int = 1 << 16) -> IO[bytes]:
        """A seekable binary file over ranged GETs (recently read blocks are cached)."""
        info = info or self.info(key)
        raw = RangedReader(self, key, info.size, block_size)
        return io.BufferedReader(raw, buffer_size=block_size)


@contextmanager
def temp_beside(dest: Path) -> Iterator[str]:
    """A hidden temporary file in ``dest``'s directory (mode 0600), removed unless renamed.

    Short (``.invindex-XXXXXXXX.part``) whatever ``dest`` is called, so any name the
    filesystem allows can be downloaded (s3transfer adds its own suffix to it)."""
    fd, tmp = tempfile.mkstemp(prefix=".invindex-", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        yield tmp
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read_umask() -> int:
    """The process umask without changing it (Linux: /proc), else set-and-restore once."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        old = os.umask(0o077)
        os.umask(old)
    return old


_UMASK_LOCK = threading.Lock()


def replace_as_cp(tmp: str, dest: Path, new_mode: int = 0o666) -> None:
    """Rename ``tmp`` onto ``dest`` with the mode ``cp`` would leave: an existing file
    keeps its own, a new one gets ``new_mode`` less the umask."""
    try:
        mode = stat.S_IMODE(os.stat(dest).st_mode)
    except FileNotFoundError:
        mode = new_mode & ~_read_umask() & 0o7777
    os.chmod(tmp, mode)
    os.replace(tmp, dest)


class RangedReader(io.RawIOBase):
    """Read-only, seekable view of an object; reads whole aligned blocks, LRU-cached.

    A bisection over a sorted part touches O(log n) blocks and revisits the last few,
    so a small cache turns most of its reads into memory hits.
    """

    def __init__(self, store: Store, key: str, size: int, block_size: int = 1 << 16,
                 cache_blocks: int = 32) -> None:
        super().__init__()
        self.store, self.key, self.size = store, key, size
        self.block_size = block_size
        self.cache_blocks = cache_blocks
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        self._lock = threading.Lock()
        self.requests = 0  # ranged GETs made, for tests and logging

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _block(self, index: int) -> bytes:
        with self._lock:
            block = self._blocks.get(index)
            if block is not None:
                self._blocks.move_to_end(index)
                return block
        start = index * self.block_size
        block = self.store.read_range(self.key, start, min(self.block_size, self.size - start))
        with self._lock:
            self.requests += 1
            self._blocks[index] = block
            while len(self._blocks) > self.cache_blocks:
                self._blocks.popitem(last=False)
        return block

    def readinto(self, buffer) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self.size:
            index, offset = divmod(self._pos, self.block_size)
            block = self._block(index)
            chunk = block[offset:offset + len(view) - done]
            if not chunk:
                break
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
            self._pos += len(chunk)
        return done


def digests_for(info: ObjectInfo) -> Dict[str, str]:
    return {k: v for k, v in (("md5", info.md5), ("crc32c", info.crc32c)) if v}
