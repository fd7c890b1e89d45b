"""Cloud URIs for ``invindex build`` and ``lookup``: stage inputs, publish and read indexes.

- ``stage_inputs``: cloud inputs are downloaded (verified) to a local temporary area
  for the local runners; local paths and globs pass through untouched.
- ``publish_index``, ``open_index``, ``RemoteIndex``: shorthands for the commit
  protocol and the ``IndexLocation`` of ``invindex.index``.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import List

from .errors import UsageError
from .index.commit import publish
from .index.location import IndexLocation, LocalLocation, StoreLocation, index_location
from .index.reader import open_location
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
                  callback: ProgressCallback | None = None, **options: object) -> None:
    """Upload a finished local index to ``uri`` by the commit protocol
    (``index.commit``): refused when something is there unless ``overwrite``; then
    only an index is replaced, its ``_SUCCESS`` deleted first and written last."""
    dest = index_location(uri, **options)
    src = LocalLocation(Path(local_dir))
    if callback is None:
        names = [n for n in src.names()] if Path(local_dir).is_dir() else []
        with progress(sum(src.size(n) for n in names), "uploading index") as bar:
            publish(src, dest, overwrite, bar)
    else:
        publish(src, dest, overwrite, callback)


# An index at a cloud URI, read in place (seekable parts over ranged GETs).
RemoteIndex = StoreLocation


def open_index(uri: str, **options: object) -> IndexLocation:
    """The location of a finished index at ``uri`` (``NotFound`` when nothing is there,
    ``InvindexError`` without ``_SUCCESS``)."""
    return open_location(uri, **options)
