"""Cloud URIs for ``invindex build`` and ``lookup``: stage inputs, publish and read indexes.

- ``stage_inputs``: cloud inputs are downloaded (verified) to a local temporary area
  for the local runners; local paths and globs pass through untouched.
- ``publish_index``: a finished local index goes up with every part and the manifest
  first and ``_SUCCESS`` last, so a reader never sees half an index; replacing an index
  removes its ``_SUCCESS`` before anything else changes.
- ``RemoteIndex``: what a reader needs without downloading the index: existence of
  ``_SUCCESS``, the manifest's bytes, and seekable files over ranged GETs that
  ``core.indexfmt.find_in_part`` bisects as it does local parts.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import IO, List

from .core import indexfmt
from .errors import InvindexError, NotFound, UsageError
from .progress import ProgressCallback, progress
from .storage import get_store, is_remote, parse_uri
from .storage.base import ObjectInfo, Store
from .storage.errors import ObjectNotFound, StorageError
from .storage.localpath import printable
from .storage.transfer import Item, run_items, targets, transfer_bytes, walk

__all__ = ["RemoteIndex", "is_remote", "open_index", "publish_index", "stage_inputs"]


def _hidden(rel: str) -> bool:
    """As Hadoop's FileInputFormat and ``inputs.expand_inputs``: skip _x and .x inside."""
    return any(part.startswith((".", "_")) for part in rel.split("/"))


def _remote_matches(uri: str, store: Store) -> List[ObjectInfo]:
    """Objects named by a cloud input: one object, a prefix (directory), or a glob."""
    u = parse_uri(uri)
    if any(c in u.key for c in "*?["):
        head = u.key
        for i, c in enumerate(u.key):
            if c in "*?[":
                head = u.key[:i]
                break
        return [info for info in store.list(head)
                if fnmatch.fnmatchcase(info.key, u.key) and not info.key.endswith("/")]
    if u.key and not u.key.endswith("/"):
        try:
            return [store.info(u.key)]
        except ObjectNotFound:
            pass
    return [info for rel, info in walk(store, u) if not _hidden(rel)]


def stage_inputs(uris: List[str], tmpdir: str | os.PathLike[str],
                 callback: ProgressCallback | None = None, jobs: int = 8,
                 **options: object) -> List[Path]:
    """Local paths for the build's INPUT arguments, downloading the cloud ones.

    A local argument (path, glob, directory) comes back as ``Path(arg)`` unchanged, for
    ``inputs.expand_inputs`` to expand. A cloud object, prefix or glob
    (``s3://b/corpus/``, ``gs://b/docs-*.tsv.gz``) is downloaded in parallel under
    ``tmpdir`` keeping its key (so ``.gz``/``.bz2`` suffixes still say how to decompress)
    and each downloaded file is returned, in key order. Raises ``UsageError`` when a
    cloud input matches nothing. ``options``: ``profile``/``project``/``account`` names,
    as ``storage.get_store`` takes them.
    """
    out: List[Path] = []
    items: List[Item] = []
    local = get_store(str(tmpdir))
    for n, uri in enumerate(uris):
        if not is_remote(uri):
            out.append(Path(uri))
            continue
        store = get_store(uri, **options)
        matches = sorted(_remote_matches(uri, store), key=lambda i: i.key)
        if not matches:
            raise UsageError(f"input {uri!r} matches no objects")
        base = Path(tmpdir) / f"{n:03d}-{store.scheme}-{store.bucket}"
        batch, refused = targets(store, [(i.key, i) for i in matches], local, parse_uri(str(base)))
        if refused:
            raise StorageError(f"input {uri}: {len(refused)} key(s) refused, nothing staged: "
                               + "; ".join(f"{printable(r.key)} ({r.reason})" for r in refused[:3]))
        items += batch
        out += [Path(it.dst_key) for it in batch]
    if items:
        if callback is None:
            with progress(transfer_bytes(items), "staging inputs") as bar:
                run_items(items, bar, jobs)
        else:
            run_items(items, callback, jobs)
    return out


def publish_index(local_dir: str | os.PathLike[str], uri: str, overwrite: bool = False,
                  callback: ProgressCallback | None = None, jobs: int = 8,
                  **options: object) -> None:
    """Upload a finished local index to ``uri``: parts and manifest, then ``_SUCCESS``.

    Refuses a destination that holds anything (an index or the leftovers of a failed
    upload) unless ``overwrite``; then the old ``_SUCCESS`` is deleted first, so that
    readers refuse the index while it is being replaced, and objects of the old index
    that the new one does not have are deleted before the new ``_SUCCESS`` is written.
    """
    src = Path(local_dir)
    if not (src / indexfmt.SUCCESS).exists() or not (src / indexfmt.MANIFEST).exists():
        raise InvindexError(f"{src} is not a finished index (no {indexfmt.SUCCESS} or "
                            f"{indexfmt.MANIFEST})")
    dst = parse_uri(uri)
    store = get_store(dst, **options)
    old = [info.key for _, info in walk(store, dst)] if not dst.is_local or \
        os.path.isdir(dst.key) else []
    if old and not overwrite:
        raise InvindexError(f"output {uri} already exists (use --overwrite to replace it)")
    success_key = dst.join(indexfmt.SUCCESS).key
    if old:
        store.delete(success_key)
    names = sorted(p.name for p in src.iterdir() if p.is_file() and p.name != indexfmt.SUCCESS)
    items = [Item(get_store(str(src)), ObjectInfo(str(src / n), (src / n).stat().st_size),
                  store, dst.join(n).key) for n in names]
    if callback is None:
        with progress(transfer_bytes(items), "uploading index") as bar:
            run_items(items, bar, jobs)
    else:
        run_items(items, callback, jobs)
    new = {dst.join(n).key for n in names} | {success_key}
    for key in old:
        if key not in new:
            store.delete(key)
    store.put_file(str(src / indexfmt.SUCCESS), success_key)


class RemoteIndex:
    """An index at a cloud URI, read in place.

    ``has_success()``; ``read_manifest()`` (bytes); ``open(name)`` a seekable binary
    file over ranged GETs with ``size(name)`` for ``indexfmt.find_in_part(f, size,
    term)``. Also works on a local directory (plain files).
    """

    def __init__(self, uri: str, **options: object) -> None:
        self.uri = uri
        self._loc = parse_uri(uri)
        self.store = get_store(self._loc, **options)
        self._infos: dict = {}

    def _key(self, name: str) -> str:
        return self._loc.join(name).key

    def info(self, name: str) -> ObjectInfo:
        if name not in self._infos:
            self._infos[name] = self.store.info(self._key(name))
        return self._infos[name]

    def exists(self, name: str) -> bool:
        try:
            self.info(name)
            return True
        except ObjectNotFound:
            return False

    def has_success(self) -> bool:
        return self.exists(indexfmt.SUCCESS)

    def size(self, name: str) -> int:
        return self.info(name).size

    def read_bytes(self, name: str) -> bytes:
        return self.store.read_bytes(self._key(name))

    def read_manifest(self) -> bytes:
        try:
            return self.read_bytes(indexfmt.MANIFEST)
        except ObjectNotFound:
            raise InvindexError(f"{self.uri} has no {indexfmt.MANIFEST}") from None

    def open(self, name: str) -> IO[bytes]:
        """Seekable, buffered; each uncached 64 KiB block is one ranged GET."""
        return self.store.open(self._key(name), self.info(name))


def open_index(uri: str, **options: object) -> RemoteIndex:
    """A ``RemoteIndex`` after checking that the index is finished.

    Raises ``NotFound`` when nothing is at ``uri`` and ``InvindexError`` when there is
    no ``_SUCCESS`` (an unfinished or interrupted build/upload).
    """
    index = RemoteIndex(uri, **options)
    if not index.has_success():
        if not index.exists(indexfmt.MANIFEST) and not any(
                True for _ in walk(index.store, index._loc)):
            raise NotFound(f"no index at {uri}")
        raise InvindexError(f"{uri} has no {indexfmt.SUCCESS}: the build or upload that wrote "
                            "it did not finish; rebuild it")
    return index
