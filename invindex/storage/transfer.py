"""Copy, sync and remove between any two stores, files in parallel.

Directory semantics, as ``aws s3 cp --recursive`` has them: copying ``SRC`` recursively
puts what is *under* ``SRC/`` under ``DST/``. Each file travels whole and verified
(see ``Store.put_file``/``get_file``). Between two buckets of one provider the service
copies it by itself (``Store.server_copy``: no byte crosses this machine); otherwise,
or when the service turns out not to have the call, it passes through a local temporary
file so that both sides' checks apply. ``-v`` logs which way each object went.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Tuple

from ..errors import UsageError
from . import get_store
from .base import ObjectInfo, Settings, Store
from .checksum import file_digests
from .errors import ObjectNotFound, ServerCopyUnavailable, StorageError
from .localpath import Refused, plan_paths
from .uri import URI, parse_uri

Callback = Callable[[int], None] | None
DEFAULT_JOBS = 8
log = logging.getLogger(__name__)
_LOCK = threading.Lock()


@dataclass
class Summary:
    """What a transfer did, for the one-line report the CLI prints."""

    files: int = 0
    bytes: int = 0
    skipped: int = 0
    deleted: int = 0
    seconds: float = 0.0
    refused: List[Refused] = field(default_factory=list)  # keys named by source URI
    kept: int = 0  # extras --delete left alone because keys were refused

    def text(self, verb: str = "Copied") -> str:
        mb = self.bytes / 1e6
        s = (f"{verb} {self.files:,} file(s) ({mb:,.1f} MB) in {self.seconds:.1f} s "
             f"({mb / max(self.seconds, 1e-9):,.1f} MB/s)")
        if self.skipped:
            s += f"; {self.skipped:,} unchanged skipped"
        if self.deleted:
            s += f"; {self.deleted:,} deleted"
        if self.refused:
            s += f"; {len(self.refused):,} refused"
        if self.kept:
            s += f"; {self.kept:,} not deleted (keys refused)"
        return s + "."


@dataclass(frozen=True)
class Item:
    """One file to move: source object and destination key."""

    src: Store
    src_info: ObjectInfo
    dst: Store
    dst_key: str


def _rel_key(uri: URI) -> str:
    """The prefix whose contents a recursive operation on ``uri`` covers."""
    if uri.is_local:
        return uri.key
    return uri.key if not uri.key or uri.key.endswith("/") else uri.key + "/"


def walk(store: Store, uri: URI) -> Iterator[Tuple[str, ObjectInfo]]:
    """``(relative name, info)`` of every object under ``uri`` taken as a directory."""
    if uri.is_local:
        if os.path.isfile(uri.key):
            yield os.path.basename(uri.key), store.info(uri.key)
            return
        for info in store.list(uri.key):
            yield os.path.relpath(info.key, uri.key).replace(os.sep, "/"), info
        return
    prefix = _rel_key(uri)
    found = False
    for info in store.list(prefix):
        rel = info.key[len(prefix):]
        if rel and not rel.endswith("/"):  # skip "folder" marker objects
            found = True
            yield rel, info
    if not found and uri.key and not uri.key.endswith("/"):
        try:  # a single object named without a trailing slash
            info = store.info(uri.key)
        except ObjectNotFound:
            return
        yield uri.name, info


@dataclass
class Plan:
    """What a copy or sync will do: items to move, keys refused (see ``localpath``),
    destination objects that match already, and those not in the source."""

    items: List[Item]
    refused: List[Refused] = field(default_factory=list)
    same: int = 0
    extra: List[Tuple[Store, str]] = field(default_factory=list)
    single: bool = False  # the source is one file, not a directory or prefix

    @property
    def deletable(self) -> List[Tuple[Store, str]]:
        """What ``--delete`` may remove: nothing when keys were refused (a source we
        could not copy whole is not one the destination should be trimmed to)."""
        return [] if self.refused else self.extra


def targets(s_store: Store, entries: List[Tuple[str, ObjectInfo]], d_store: Store, du: URI
            ) -> Tuple[List[Item], List[Refused]]:
    """An Item per ``(relative name, info)`` below ``du``; into a local directory each
    name goes through ``localpath.plan_paths`` and the refused come back by source URI."""
    if not du.is_local:
        return [Item(s_store, info, d_store, du.join(rel).key) for rel, info in entries], []
    paths, refused = plan_paths(du.key, [rel for rel, _ in entries])
    items = [Item(s_store, info, d_store, paths[rel]) for rel, info in entries if rel in paths]
    keys = {rel: info.key for rel, info in entries}
    return items, [Refused(s_store.uri(keys[r.key]), r.reason) for r in refused]


def plan_copy(src: str, dst: str, recursive: bool = False, settings: Settings | None = None,
              **options: object) -> Plan:
    su, du = parse_uri(src), parse_uri(dst)
    s_store, d_store = get_store(su, settings, **options), get_store(du, settings, **options)
    if recursive:
        entries = list(walk(s_store, su))
        if not entries:
            raise ObjectNotFound(f"{src}: nothing to copy")
        return Plan(*targets(s_store, entries, d_store, du))
    if su.is_local and os.path.isdir(su.key):
        raise StorageError(f"{src} is a directory (use -r)")
    try:
        info = s_store.info(su.key)
    except ObjectNotFound:
        if not su.is_local and any(True for _ in s_store.list(_rel_key(su), recursive=False)):
            raise StorageError(f"{src} is a prefix (use -r)") from None
        raise
    if not du.dir_like:
        return Plan([Item(s_store, info, d_store, du.key)])
    return Plan(*targets(s_store, [(su.name, info)], d_store, du))


def server_side(item: Item) -> bool:
    """Whether ``item`` is planned as a copy on the service (one provider, and a source
    the destination's service can read)."""
    return item.src.scheme != "file" and item.dst.server_copy_source(item.src)


def _server_copy(item: Item, callback: Callback) -> bool:
    """Copy on the service; False (logged) when the service cannot."""
    src, dst = item.src, item.dst
    where = f"{src.uri(item.src_info.key)} -> {dst.uri(item.dst_key)}"
    if dst.no_server_copy:
        return False
    try:
        dst.server_copy(src, item.src_info, item.dst_key, callback)
    except ServerCopyUnavailable as e:
        with _LOCK:
            first, dst.no_server_copy = not dst.no_server_copy, str(e)
        if first:
            log.info("%s: server-side copy not available (%s); copying through this machine "
                     "from now on", where, e)
        return False
    log.info("%s: server-side copy (%s bytes)", where, f"{item.src_info.size:,}")
    return True


def copy_item(item: Item, callback: Callback = None, tmpdir: str | None = None) -> int:
    """Move one object; returns its size."""
    src, dst = item.src, item.dst
    if src.scheme == "file":
        dst.put_file(item.src_info.key, item.dst_key, callback)
    elif dst.scheme == "file":
        src.get_file(item.src_info.key, item.dst_key, callback, item.src_info)
    else:
        planned = server_side(item)
        if planned and _server_copy(item, callback):
            return item.src_info.size
        if not planned:
            log.info("%s -> %s: copying through this machine (%s to %s: no server-side copy "
                     "between them)", src.uri(item.src_info.key), dst.uri(item.dst_key),
                     src.scheme, dst.scheme)
        with tempfile.TemporaryDirectory(prefix="invindex-xfer-", dir=tmpdir) as tmp:
            path = os.path.join(tmp, "object")
            # planned as one server-side pass: the bar counts the upload only
            src.get_file(item.src_info.key, path, None if planned else callback,
                         item.src_info)
            dst.put_file(path, item.dst_key, callback)
    return item.src_info.size


def run_items(items: List[Item], callback: Callback = None, jobs: int = DEFAULT_JOBS,
              summary: Summary | None = None) -> Summary:
    """Copy items in a thread pool; the first failure cancels what has not started."""
    summary = summary or Summary()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(copy_item, it, callback) for it in items]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        for f in futures:
            if f.done() and not f.cancelled() and f.exception() is not None:
                raise f.exception()  # type: ignore[misc]
    summary.files += len(items)
    summary.bytes += sum(it.src_info.size for it in items)
    summary.seconds += time.monotonic() - started
    return summary


def transfer_bytes(items: List[Item]) -> int:
    """Bytes a progress bar will see: once for an upload, a download or a server-side
    copy; twice between two providers (down to this machine, then up)."""
    return sum(it.src_info.size * (2 if it.src.scheme != "file" and it.dst.scheme != "file"
                                   and not server_side(it) else 1) for it in items)


def copy(src: str, dst: str, recursive: bool = False, callback: Callback = None,
         jobs: int = DEFAULT_JOBS, settings: Settings | None = None,
         **options: object) -> Summary:
    """Copy ``src`` to ``dst``; refused keys are in the summary's ``refused``."""
    plan = plan_copy(src, dst, recursive, settings, **options)
    return run_items(plan.items, callback, jobs, Summary(refused=plan.refused))


# -- sync ----------------------------------------------------------------------------------
def _remote_digests(store: Store, info: ObjectInfo) -> Dict[str, str]:
    if not info.md5 and not info.crc32c:
        info = store.info(info.key)  # listings do not always carry digests (S3 metadata)
    return {k: v for k, v in (("md5", info.md5), ("crc32c", info.crc32c)) if v}


def same_content(a: Store, ai: ObjectInfo, b: Store, bi: ObjectInfo) -> bool:
    """Same size and an equal digest of a kind both sides can state (local files are
    hashed only in the kinds the other side has)."""
    if ai.size != bi.size:
        return False
    da = _remote_digests(a, ai) if a.scheme != "file" else None
    db = _remote_digests(b, bi) if b.scheme != "file" else None
    kinds = tuple(da or db or ("md5",))
    if da is None:
        da = file_digests(ai.key, kinds)
    if db is None:
        db = file_digests(bi.key, kinds)
    for kind in ("md5", "crc32c"):
        if kind in da and kind in db:
            return da[kind] == db[kind]
    return False


def plan_sync(src: str, dst: str, settings: Settings | None = None, **options: object) -> Plan:
    """Items to copy, refused keys, how many match already, destination objects not in
    the source (``Plan.deletable``: none when a key was refused).

    A source with nothing in it (a typo of a prefix, a missing directory) is an error
    before the destination is even listed: syncing it with ``--delete`` would empty the
    destination."""
    su, du = parse_uri(src), parse_uri(dst)
    s_store, d_store = get_store(su, settings, **options), get_store(du, settings, **options)
    entries = list(walk(s_store, su))
    if not entries:
        raise ObjectNotFound(f"{src}: nothing to sync (no such file, directory or prefix, or "
                             "nothing in it); nothing was copied or deleted")
    single = os.path.isfile(su.key) if su.is_local else (
        len(entries) == 1 and entries[0][1].key == su.key)
    existing = {info.key: info for _, info in walk(d_store, du)} \
        if not (du.is_local and not os.path.isdir(du.key)) else {}
    wanted, refused = targets(s_store, entries, d_store, du)
    items, same = [], 0
    for item in wanted:
        old = existing.get(item.dst_key)
        if old is not None and same_content(s_store, item.src_info, d_store, old):
            same += 1
            continue
        items.append(item)
    seen = {it.dst_key for it in wanted}
    extra = [(d_store, key) for key in existing if key not in seen]
    return Plan(items, refused, same, extra, single)


def check_deletes(what: str, count: int, max_delete: int | None) -> None:
    """Refuse, before anything changes, to delete more than ``max_delete`` objects."""
    if max_delete is not None and count > max_delete:
        raise StorageError(f"{what}: {count:,} object(s) to delete, more than --max-delete "
                           f"{max_delete}; nothing was changed")


def check_sync(plan: Plan, src: str, dst: str, delete: bool,
               max_delete: int | None = None) -> None:
    """What ``sync --delete`` refuses before it starts: a single-file source (every
    other object under the destination would go) and more deletions than the cap."""
    if not delete:
        return
    if plan.single:
        raise UsageError(f"--delete needs a directory or prefix as SRC, not a single file: "
                         f"{src} (nothing was copied or deleted)")
    check_deletes(dst, len(plan.deletable), max_delete)


def apply_sync(plan: Plan, delete: bool, callback: Callback = None,
               jobs: int = DEFAULT_JOBS) -> Summary:
    """Copy the plan's items, then (with ``delete``) remove the extras."""
    summary = run_items(plan.items, callback, jobs, Summary(skipped=plan.same,
                                                            refused=plan.refused))
    if delete:
        for store, key in plan.deletable:
            store.delete(key)
        summary.deleted = len(plan.deletable)
        summary.kept = len(plan.extra) - len(plan.deletable)
    return summary


def sync(src: str, dst: str, delete: bool = False, callback: Callback = None,
         jobs: int = DEFAULT_JOBS, settings: Settings | None = None,
         max_delete: int | None = None, **options: object) -> Summary:
    plan = plan_sync(src, dst, settings, **options)
    check_sync(plan, src, dst, delete, max_delete)
    return apply_sync(plan, delete, callback, jobs)


# -- remove ---------------------------------------------------------------------------------
def plan_remove(uri: str, recursive: bool = False, settings: Settings | None = None,
                **options: object) -> Tuple[Store, List[str]]:
    """The store and the keys (local paths) that ``remove`` would delete."""
    u = parse_uri(uri)
    store = get_store(u, settings, **options)
    if not recursive:
        if u.is_local and os.path.isdir(u.key):
            raise StorageError(f"{uri} is a directory (use -r)")
        store.info(u.key)  # a clear error if it is not there
        return store, [u.key]
    if u.is_local and os.path.isdir(u.key):
        return store, [info.key for info in store.list(u.key)]
    keys = [info.key for _, info in walk(store, u)]
    if not keys:
        raise ObjectNotFound(f"{uri}: nothing to remove")
    return store, keys


def remove(uri: str, recursive: bool = False, settings: Settings | None = None,
           max_delete: int | None = None, **options: object) -> int:
    """Delete an object, or with ``recursive`` everything under a prefix/directory
    (a local directory goes as a whole, as ``rm -r`` removes it)."""
    store, keys = plan_remove(uri, recursive, settings, **options)
    check_deletes(uri, len(keys), max_delete)
    u = parse_uri(uri)
    if recursive and u.is_local and os.path.isdir(u.key):
        shutil.rmtree(u.key)
        return len(keys)
    many = getattr(store, "delete_many", None)
    if many is not None:
        many(keys)
    else:
        with ThreadPoolExecutor(max_workers=DEFAULT_JOBS) as pool:
            list(pool.map(store.delete, keys))
    return len(keys)
