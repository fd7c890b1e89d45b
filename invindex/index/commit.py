"""The commit protocol, in one place: how a finished set of parts becomes an index.

An index is complete when its ``_SUCCESS`` exists, and ``_SUCCESS`` is written last:
parts, then ``_manifest.json``, then ``_SUCCESS``. A build never writes into an
existing index: it runs into a staging location and commits at the end.

- **Claim** (before any work): an existing output is refused without ``--overwrite``;
  with it, only an index is replaced (a location that holds anything else is refused,
  naming one such file). The output is locked for the whole build, so of two builds
  racing for one output exactly one creates the lock and the other is refused: a local
  one by ``.NAME.lock`` beside it, created exclusively (a dead owner's taken over); a
  cloud one by the object ``.NAME.lock`` beside the prefix, created only if absent, with
  a renewed lease (``cloudlock``). Holding it, a cloud build deletes the staging
  prefixes a killed build left beside the output (``sweep_staging``; names in
  ``staging``), as a local one sweeps dead owners' temporaries.
- **Commit, with a rename** (local directory, HDFS): manifest and ``_SUCCESS`` go into
  the staging directory, which is then renamed into place; an old index is renamed
  aside first and deleted after. Readers see the old index or the new one.
- **Commit, by copying** (object stores, which have no rename): the old ``_SUCCESS`` is
  deleted first (readers refuse the index from then on), then the parts and manifest
  are written (copied by the service itself from a staging prefix on the same provider),
  stale files of the old index deleted, and ``_SUCCESS`` written last.
  Until the commit starts, the old index stays whole and readable, so a failed
  rebuild costs nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List

from ..core import indexfmt
from ..errors import InvindexError
from ..progress import ProgressCallback
from ..storage.errors import StorageError
from ..temps import owner_is_dead, owner_tag, sweep
from . import integrity
from .cloudlock import CloudLock, LockHeld, lock_key
from .location import HdfsLocation, IndexLocation, LocalLocation, StoreLocation
from .staging import output_name, staging_name, staging_owner

log = logging.getLogger(__name__)
_HADOOP_LEFTOVER = re.compile(r"\.?part-[^/]*|_temporary/.*|\.[^/]*\.crc")


class OutputExists(InvindexError):
    pass


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def foreign_names(loc: IndexLocation, names: List[str]) -> List[str]:
    """Files at ``loc`` that are not part of an index: neither ``_SUCCESS``, the
    manifest, a file the manifest names, nor a part (or Hadoop's leftovers of one)."""
    allowed = {indexfmt.SUCCESS, indexfmt.MANIFEST}
    if indexfmt.MANIFEST in names:
        with contextlib.suppress(ValueError):
            allowed.update(_strings(json.loads(loc.read_bytes(indexfmt.MANIFEST))))
    return [n for n in names if n not in allowed and not _HADOOP_LEFTOVER.fullmatch(n)]


@dataclass
class Claim:
    """The right to write one output, from the checks before the build to the commit."""

    output: IndexLocation
    overwrite: bool
    lock: Path | None = None
    cloud_lock: CloudLock | None = None
    notes: List[str] = field(default_factory=list)

    def confirm(self) -> None:
        """Just before the commit: the lock must still be ours (``LockLost``)."""
        if self.cloud_lock is not None:
            self.cloud_lock.confirm()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.unlink(missing_ok=True)
            self.lock = None
        if self.cloud_lock is not None:
            self.cloud_lock.release()
            self.cloud_lock = None


def _exists_error(output: IndexLocation) -> OutputExists:
    return OutputExists(f"output {output} already exists (use --overwrite to replace it)")


def _check_output(output: IndexLocation, overwrite: bool) -> None:
    if isinstance(output, LocalLocation):
        if not (output.path.exists() or output.path.is_symlink()):
            return
        if not overwrite:
            raise _exists_error(output)
        if not output.path.is_dir():
            raise OutputExists(f"output {output} is a file, not an index: refusing to "
                               "replace it")
        names = output.names()
    else:
        names = output.names()
        if not names:
            return
        if not overwrite:
            raise _exists_error(output)
    foreign = foreign_names(output, names)
    if foreign:
        raise OutputExists(f"output {output} holds files that are not part of an index "
                           f"(e.g. {foreign[0]!r}): refusing to --overwrite it; remove them "
                           "or choose another output")


def _lock(output: LocalLocation) -> Path:
    """``.NAME.lock`` beside the output, created exclusively; a dead owner's is taken
    over (it was killed before it could remove it)."""
    path = output.path.parent / f".{output.path.name}.lock"
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                owner = path.read_text().strip()
            except FileNotFoundError:
                continue
            if owner and owner_is_dead(owner):
                path.unlink(missing_ok=True)
                continue
            raise OutputExists(f"output {output} already exists: another build is "
                               f"writing it ({owner or 'owner unknown'})") from None
        with os.fdopen(fd, "w") as f:
            f.write(owner_tag())
        return path
    raise OutputExists(f"output {output}: cannot take its lock {path}")


def _cloud_lock(output: StoreLocation) -> CloudLock | None:
    """The object ``.NAME.lock`` beside the prefix, created only if absent; a stale
    one taken over (see ``cloudlock``). None when the service cannot lock (warned)."""
    lock = CloudLock(output.store, lock_key(output.prefix, output.store.bucket))
    try:
        return lock if lock.acquire() else None
    except LockHeld as e:
        raise OutputExists(f"output {output} already exists: another build is writing it "
                           f"({e}); a killed build's lock ({lock.uri}) is taken over when "
                           "its lease ends") from None


def resolve_local(output: LocalLocation) -> LocalLocation:
    """A symlinked output stands for its target: the index is replaced there and the
    link kept (staging goes beside the target, on its filesystem)."""
    if output.path.is_symlink():
        return LocalLocation(Path(os.path.realpath(output.path)))
    return output


def _restore_swapped_out(output: LocalLocation) -> None:
    """A build killed between the two renames of a swap left no index at the output
    and the old one aside: put the old one back (the sweep would delete it)."""
    if output.path.exists() or output.path.is_symlink():
        return
    for old in sorted(output.path.parent.glob(f".{output.path.name}.old-*")):
        if owner_is_dead(old.name[len(output.path.name) + 6:]):
            os.rename(old, output.path)
            log.warning("restored %s from %s (a build was killed while replacing it)",
                        output.path, old)
            return


def claim(output: IndexLocation, overwrite: bool) -> Claim:
    """Check that the build may write ``output`` (before any work) and hold it."""
    if isinstance(output, LocalLocation):
        output = resolve_local(output)
        output.path.parent.mkdir(parents=True, exist_ok=True)
        _restore_swapped_out(output)
        sweep(output.path.parent, f".{output.path.name}.")
        _check_output(output, overwrite)
        c = Claim(output, overwrite, _lock(output))
        try:  # checked again under the lock: the output may have appeared meanwhile
            _check_output(output, overwrite)
        except BaseException:
            c.release()
            raise
        return c
    _check_output(output, overwrite)
    if not isinstance(output, StoreLocation):
        return Claim(output, overwrite)
    c = Claim(output, overwrite, cloud_lock=_cloud_lock(output))
    try:  # checked again under the lock, as above
        _check_output(output, overwrite)
        sweep_staging(output, locked=c.cloud_lock is not None)
    except BaseException:
        c.release()
        raise
    return c


def sweep_staging(output: StoreLocation, locked: bool) -> List[str]:
    """Delete the staging prefixes beside ``output`` that killed builds left (objects
    someone pays for, which nothing else would ever delete); their URIs. Under the
    output's lock only its holder writes staging for it, so every one found is a dead
    build's; unlocked (a service that cannot lock), only those of a dead process of this
    host. A failure to delete is a warning: the build goes on."""
    parent, name = output_name(output.prefix, output.store.bucket)
    start = f"{parent}/" if parent else ""
    found: Dict[str, List[str]] = {}
    try:
        for info in output.store.list(f"{start}.{name}.tmp-"):
            segment, slash, _ = info.key[len(start):].partition("/")
            owner = staging_owner(name, segment)
            if slash and owner and (locked or owner_is_dead(owner)):
                found.setdefault(output.store.uri(start + segment), []).append(info.key)
        for keys in found.values():
            for key in keys:
                output.store.delete(key)
                log.debug("removed %s (a killed build's staging)", output.store.uri(key))
    except StorageError as e:
        log.warning("could not remove the staging left by a killed build beside %s: %s",
                    output, e)
        return []
    if found:
        log.info("removed %d staging prefix(es) left by a killed build beside %s (%d "
                 "object(s)): %s", len(found), output, sum(map(len, found.values())),
                 ", ".join(found))
    return list(found)


def local_staging(output: LocalLocation) -> LocalLocation:
    """A fresh hidden directory beside ``output`` (same filesystem, so rename works)."""
    return LocalLocation(Path(tempfile.mkdtemp(
        prefix=f".{output.path.name}.tmp-{owner_tag()}-", dir=output.path.parent)))


def remote_staging(output: IndexLocation) -> IndexLocation:
    """Where a job writing URIs in place puts its parts: the output itself when it is
    empty, else a hidden sibling (Hadoop refuses an existing output directory, and the
    old index must stay readable until the commit)."""
    if not output.names():
        return output
    if isinstance(output, StoreLocation):
        name = output_name(output.prefix, output.store.bucket)[1]
    else:
        name = output.uri.rstrip("/").rsplit("/", 1)[-1]
    return output.sibling(staging_name(name))


def parts_in(staging: IndexLocation) -> List[str]:
    return sorted(n for n in staging.names() if "/" not in n and n.startswith("part-"))


def _can_rename(staging: IndexLocation, output: IndexLocation) -> bool:
    return type(staging) is type(output) and isinstance(output, (LocalLocation, HdfsLocation))


def _swap(staging: IndexLocation, output: IndexLocation, overwrite: bool) -> None:
    """Rename ``staging`` into place; an old index is renamed aside first, then deleted."""
    if isinstance(output, LocalLocation):
        exists = output.path.exists()
    else:
        exists = bool(output.names())
    if exists and not overwrite:
        raise _exists_error(output)
    old = output.sibling(f".{output.uri.rstrip('/').rsplit('/', 1)[-1]}.old-{owner_tag()}")
    if exists:
        output.rename(old)
    staging.rename(output)
    if exists:
        old.remove()


def commit(staging: IndexLocation, output: IndexLocation, manifest: Dict[str, Any],
           overwrite: bool, callback: ProgressCallback | None = None) -> None:
    """Make the parts in ``staging`` the index at ``output``: manifest, then
    ``_SUCCESS``, by a rename where the backend has one, else by copying."""
    if isinstance(staging, LocalLocation):  # each part's size and checksum (cheap here)
        manifest["part_files"] = integrity.part_files(manifest["parts"], staging.open)
    staging.write_bytes(indexfmt.MANIFEST, indexfmt.dump_manifest(manifest))
    if staging.uri == output.uri:  # the job wrote in place into an empty output
        output.write_bytes(indexfmt.SUCCESS, b"")
        return
    if isinstance(staging, LocalLocation):
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging.path, 0o777 & ~umask)  # mkdtemp made it private; an index is not
    if _can_rename(staging, output) or isinstance(staging, LocalLocation):
        staging.write_bytes(indexfmt.SUCCESS, b"")
    if _can_rename(staging, output):
        _swap(staging, output, overwrite)
    else:
        copy_commit(staging, output, overwrite, callback)


def copy_commit(staging: IndexLocation, output: IndexLocation, overwrite: bool,
                callback: ProgressCallback | None = None) -> None:
    """Commit without a rename: ``_SUCCESS`` deleted first, the rest copied, stale
    files deleted, ``_SUCCESS`` last (a local staging's own, else an empty one)."""
    new = staging.names()
    old = output.names()
    if old and not overwrite:
        raise _exists_error(output)
    if indexfmt.SUCCESS in old:
        output.delete(indexfmt.SUCCESS)  # readers refuse the index from here on
    body = [n for n in new if n != indexfmt.SUCCESS]
    _transfer(staging, output, body, callback)
    for name in old:
        if name not in new:
            output.delete(name)
    if isinstance(staging, LocalLocation) and indexfmt.SUCCESS in new:
        _transfer(staging, output, [indexfmt.SUCCESS], None)
    else:
        output.write_bytes(indexfmt.SUCCESS, b"")
    if not isinstance(staging, LocalLocation):
        staging.remove()


def publish(src: LocalLocation, output: IndexLocation, overwrite: bool = False,
            callback: ProgressCallback | None = None) -> None:
    """Copy a finished local index to ``output`` with the same protocol."""
    if not (src.exists(indexfmt.SUCCESS) and src.exists(indexfmt.MANIFEST)):
        raise InvindexError(f"{src} is not a finished index (no {indexfmt.SUCCESS} or "
                            f"{indexfmt.MANIFEST})")
    if not isinstance(output, StoreLocation):
        _check_output(output, overwrite)
        copy_commit(src, output, overwrite, callback)
        return
    held = claim(output, overwrite)  # locked as a build's output is
    try:
        copy_commit(src, output, overwrite, callback)
    finally:
        held.release()


def _transfer(staging: IndexLocation, output: IndexLocation, names: List[str],
              callback: ProgressCallback | None) -> None:
    if isinstance(staging, LocalLocation):
        output.put_files(staging.path, names, callback)
    elif isinstance(output, StoreLocation) and isinstance(staging, StoreLocation):
        output.copy_from(staging, names, callback)
    else:
        with tempfile.TemporaryDirectory(prefix="invindex-commit-") as tmp:
            for name in names:
                Path(tmp, name).write_bytes(staging.read_bytes(name))
            output.put_files(Path(tmp), names, callback)
