"""The lock of a cloud output: one object beside the prefix, created only if absent.

A build into ``s3://b/a/idx`` holds ``s3://b/a/.idx.lock`` (the local ``.NAME.lock``'s
name; a bucket-root output's is ``.BUCKET.lock`` in the bucket) from its claim to the
end of its commit. The object is created with the service's create-if-absent
(``Store.put_bytes_if``), so of two builds racing for one output exactly one creates it;
the other is refused. It lies outside the prefix, so no listing, reader, ``verify`` or
commit of the index ever sees it, and its name starts with ``.``, which Hadoop and our
input staging skip.

The body says who holds it (JSON: host, pid, start, lease expiry, a random token; no
credential) and for how long: a **lease** of ``LEASE_SECONDS`` (10 minutes;
``INVINDEX_LOCK_LEASE`` overrides), renewed every quarter lease by a background thread
with a conditional replace (``If-Match`` the version it wrote), and once more
synchronously before the commit starts: a build that cannot renew (another build took
the lock over after its lease ran out) does not commit. A lock is stale when its lease
has expired (clocks of the hosts must agree to well within the lease), or when its
owner is a dead process of this same machine (the body's ``machine``, the kernel's boot
id and pid namespace, equals ours: a host name alone may be shared by containers or CI
runners elsewhere, whose live builds must not look dead); a stale lock is taken over
by a conditional replace of the version that was read, so of two takers exactly one wins.
Released (a conditional delete of our own version) when the build ends, whether it
committed, failed or was interrupted; a killed build's lock blocks at most one lease.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any, Dict, Tuple

from ..errors import InvindexError, UsageError
from ..storage.base import Store
from ..storage.errors import (
    ConditionsUnavailable,
    ObjectNotFound,
    PreconditionFailed,
    StorageError,
)
from ..temps import owner_is_dead, owner_tag
from .staging import output_name

log = logging.getLogger(__name__)

LEASE_SECONDS = 600.0
ATTEMPTS = 4


class LockHeld(InvindexError):
    """Another build holds the lock (its message describes the holder)."""


class LockLost(InvindexError):
    """This build's lock was taken over (its lease had expired)."""


def lease_seconds() -> float:
    text = os.environ.get("INVINDEX_LOCK_LEASE") or str(LEASE_SECONDS)
    try:
        lease = float(text)
    except ValueError:
        lease = 0.0
    if not 0 < lease <= 7 * 86400:
        raise UsageError(f"INVINDEX_LOCK_LEASE={text!r}: expected seconds, more than 0 and "
                         "at most a week")
    return lease


def lock_key(prefix: str, bucket: str) -> str:
    """``a/.idx.lock`` for the prefix ``a/idx``; ``.BUCKET.lock`` for a bucket root."""
    parent, name = output_name(prefix, bucket)
    return f"{parent}/.{name}.lock" if parent else f".{name}.lock"


def machine_id() -> str | None:
    """This kernel's boot id and this process's pid namespace (Linux), or None: where
    a pid means this process table's pid."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f"{f.read().strip()}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return None


def lock_body(token: str, started: float, now: float, lease: float) -> bytes:
    """What the lock object holds (nothing secret): who, since when, until when."""
    owner = owner_tag()
    return json.dumps({"owner": owner, "machine": machine_id(),
                       "host": owner.rsplit("-", 1)[0], "pid": os.getpid(),
                       "started": _utc(started), "expires": round(now + lease, 3),
                       "expires_utc": _utc(now + lease), "token": token},
                      separators=(",", ":")).encode()


def parse_body(data: bytes) -> Dict[str, Any] | None:
    try:
        body = json.loads(data)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def stale_reason(body: Dict[str, Any] | None, mtime: float | None, now: float,
                 lease: float) -> str | None:
    """Why a lock may be taken over (None: it is held). A body that cannot be read is
    given one lease from when the object was written."""
    if body is None:
        if mtime is not None and now > mtime + lease:
            return f"unreadable, written {_utc(mtime)}"
        return None
    expires = body.get("expires")
    if isinstance(expires, (int, float)) and now > expires:
        return f"lease expired {_utc(expires)}"
    owner, here = body.get("owner"), machine_id()
    if isinstance(owner, str) and here and body.get("machine") == here \
            and owner_is_dead(owner):
        return f"owner {owner} is no longer running"
    return None


def describe(body: Dict[str, Any] | None) -> str:
    if body is None:
        return "owner unknown"
    return (f"{body.get('owner', 'owner unknown')}, since {body.get('started', '?')}, "
            f"lease until {body.get('expires_utc', '?')}")


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class CloudLock:
    """``acquire()`` (raises ``LockHeld``), ``confirm()`` before committing (raises
    ``LockLost``), ``release()`` always."""

    def __init__(self, store: Store, key: str, lease: float | None = None) -> None:
        self.store, self.key = store, key
        self.uri = store.uri(key)
        self.lease = lease or lease_seconds()
        self.token = secrets.token_hex(8)
        self.started = time.time()
        self.etag: str | None = None  # the version we wrote last; None: not held
        self.lost: str | None = None
        self._mu = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _body(self) -> bytes:
        return lock_body(self.token, self.started, time.time(), self.lease)

    def _current(self) -> Tuple[Dict[str, Any] | None, str, float | None] | None:
        """The lock as it is now: (body, version, mtime), or None when it is gone."""
        try:
            info = self.store.info(self.key)
            data = self.store.read_bytes(self.key)
        except ObjectNotFound:
            return None
        return parse_body(data), str(info.etag), info.mtime

    def acquire(self) -> bool:
        """Take the lock (True), or find that the service cannot lock (False, warned)."""
        for _ in range(ATTEMPTS):
            try:
                self.etag = self.store.put_bytes_if(self.key, self._body()).etag
                break
            except ConditionsUnavailable as e:
                log.warning("%s; the output is not locked against concurrent builds", e)
                return False
            except PreconditionFailed:
                pass
            if self._take_over():
                break
        else:
            raise LockHeld(f"cannot take the lock {self.uri}: it keeps changing")
        self._renewer = threading.Thread(target=self._renew_loop, daemon=True,
                                         name=f"lock-renew {self.uri}")
        self._renewer.start()
        return True

    def _take_over(self) -> bool:
        """After a refused create: True when the lock is now ours (a retried create of
        ours had landed, or a stale lock was replaced); False to try again; raises
        ``LockHeld`` when another build holds it."""
        current = self._current()
        if current is None:
            return False
        body, version, mtime = current
        if body is not None and body.get("token") == self.token:
            self.etag = version
            return True
        reason = stale_reason(body, mtime, time.time(), self.lease)
        if reason is None:
            raise LockHeld(describe(body))
        try:
            self.etag = self.store.put_bytes_if(self.key, self._body(), match=version).etag
        except (PreconditionFailed, ObjectNotFound):
            return False  # another taker replaced or removed it first
        log.warning("took over the lock %s (%s)", self.uri, reason)
        return True

    def renew(self) -> None:
        """Extend the lease by a conditional replace of the version we wrote."""
        with self._mu:
            if self.lost:
                raise LockLost(self.lost)
            if self.etag is None:
                return
            try:
                self.etag = self.store.put_bytes_if(self.key, self._body(),
                                                    match=self.etag).etag
            except (PreconditionFailed, ObjectNotFound):
                current = self._current()  # a retried request whose first attempt landed?
                if current is not None and current[0] and current[0].get("token") == self.token:
                    self.etag = current[1]
                    return
                self.etag = None
                self.lost = (f"the lock {self.uri} was taken over by another build (this "
                             "build's lease had expired)")
                raise LockLost(self.lost) from None

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.lease / 4):
            try:
                self.renew()
            except LockLost as e:  # confirm() stops the build before its commit
                log.warning("%s; this build will not commit", e)
                return
            except StorageError as e:  # retried at the next tick, three before expiry
                log.warning("could not renew the lock %s: %s", self.uri, e)
            except Exception as e:  # an SDK's own error: never a thread's traceback
                log.warning("could not renew the lock %s: %s", self.uri, e)

    def confirm(self) -> None:
        """Just before the commit: renew now; ``LockLost`` if it is no longer ours."""
        self.renew()

    def release(self) -> None:
        """Stop renewing and delete the lock if it is still the version we wrote."""
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join()
        with self._mu:
            etag, self.etag = self.etag, None
        if etag is None:
            return
        try:
            self.store.delete_if(self.key, etag)
        except PreconditionFailed:
            log.warning("the lock %s was taken over by another build: left to it", self.uri)
        except StorageError as e:
            log.warning("could not remove the lock %s (%s): it expires after its lease",
                        self.uri, e)
