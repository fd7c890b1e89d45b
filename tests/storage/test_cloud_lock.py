"""The lock of a cloud output (``invindex/index/cloudlock.py``) on moto's S3 and Azurite.

Both emulators honour the conditional requests the lock is made of, as the services do
(checked in ``test_conditional_primitives``): moto 5.2.5 answers 412 to ``PutObject``
with ``If-None-Match: *`` on an existing key and with a stale ``If-Match``, and to
``DeleteObject`` with a stale ``If-Match``; Azurite answers 409 ``BlobAlreadyExists`` to
Put Blob with ``If-None-Match: *`` and 412 ``ConditionNotMet`` to a stale ``If-Match`` on
Put Blob and Delete Blob. gcp-storage-emulator does not (its tests are in
``test_cloud_lock_gcs.py``).

A build "still running" is a lock object written as that build would have written it
(another host's owner, a lease in the future): what a second build sees is the object,
whoever wrote it.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time

import pytest

from invindex.index.cloudlock import CloudLock, LockHeld, LockLost, machine_id
from invindex.index.commit import claim
from invindex.index.location import StoreLocation
from invindex.storage import get_store
from invindex.storage.errors import PreconditionFailed
from invindex.temps import owner_tag
from tests.conftest import SAMPLE

pytestmark = pytest.mark.emulator


@pytest.fixture(params=["s3", "az"])
def honest(request: pytest.FixtureRequest) -> str:
    """A fresh bucket on each emulator that honours conditional writes."""
    request.getfixturevalue({"s3": "s3", "az": "az"}[request.param])
    return request.getfixturevalue("make_bucket")(request.param)


def _other_builds_lock(expires_in: float, owner: str = "buildhost7-4242",
                       machine: str | None = "buildhost7's") -> bytes:
    now = time.time()
    return json.dumps({"owner": owner, "machine": machine, "host": owner.rsplit("-", 1)[0],
                       "pid": int(owner.rsplit("-", 1)[1]), "started": "earlier",
                       "expires": now + expires_in, "expires_utc": "then",
                       "token": "0123456789abcdef"}).encode()


def test_conditional_primitives(honest):
    store = get_store(honest)
    first = store.put_bytes_if("k", b"one")
    with pytest.raises(PreconditionFailed):
        store.put_bytes_if("k", b"two")  # create-if-absent on an existing key
    with pytest.raises(PreconditionFailed):
        store.put_bytes_if("k", b"two", match=first.etag + "x" if honest.startswith("s3")
                           else '"0x8D000000000000"')
    assert store.read_bytes("k") == b"one"
    second = store.put_bytes_if("k", b"three", match=first.etag)
    assert store.read_bytes("k") == b"three" and second.etag != first.etag
    with pytest.raises(PreconditionFailed):
        store.delete_if("k", first.etag)  # an older version: stays
    assert store.read_bytes("k") == b"three"
    store.delete_if("k", second.etag)
    assert not store.exists("k")
    store.delete_if("k", second.etag)  # absent is fine


def test_a_second_build_into_a_locked_prefix_is_refused(honest, cli):
    out = f"{honest}/idx"
    assert cli("build", str(SAMPLE), "-o", out).code == 0
    before = cli("lookup", out, "light").out
    store = get_store(honest)
    store.put_bytes("idx-notes.txt", b"a neighbour")  # shares the prefix's first letters
    store.put_bytes_if(".idx.lock", _other_builds_lock(600))
    r = cli("build", str(SAMPLE), "-o", out, "--overwrite", "--stem")
    assert r.code == 1
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "another build is writing it (buildhost7-4242" in lines[0]
    assert "Traceback" not in r.err
    assert cli("lookup", out, "light").out == before  # the first's output intact
    assert json.loads(store.read_bytes(".idx.lock"))["owner"] == "buildhost7-4242"  # kept
    assert cli("verify", out).code == 0


def test_a_stale_lock_is_taken_over_and_removed(honest, cli, caplog):
    out = f"{honest}/idx"
    store = get_store(honest)
    store.put_bytes_if(".idx.lock", _other_builds_lock(-5))  # its lease ran out
    with caplog.at_level(logging.WARNING, logger="invindex"):
        r = cli("build", str(SAMPLE), "-o", out)
    assert r.code == 0 and "took over the lock" in caplog.text
    assert "lease expired" in caplog.text
    assert not store.exists(".idx.lock")
    assert cli("lookup", out, "light").code == 0


def test_a_dead_owner_on_this_host_is_taken_over(honest, cli, caplog):
    dead = subprocess.Popen(["true"])
    dead.wait()
    store = get_store(honest)
    tag = owner_tag().rsplit("-", 1)[0]
    store.put_bytes_if(".idx.lock", _other_builds_lock(600, f"{tag}-{dead.pid}",
                                                       machine_id()))
    with caplog.at_level(logging.WARNING, logger="invindex"):
        r = cli("build", str(SAMPLE), "-o", f"{honest}/idx")
    assert r.code == 0 and f"owner {tag}-{dead.pid} is no longer running" in caplog.text
    assert not store.exists(".idx.lock")


def test_no_lock_is_left_after_success_failure_or_interrupt(honest, cli, tmp_path,
                                                             monkeypatch):
    out = f"{honest}/idx"
    store = get_store(honest)
    assert cli("build", str(SAMPLE), "-o", out).code == 0
    assert not store.exists(".idx.lock")
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tfine\nno tab here\n")
    r = cli("build", str(bad), "-o", out, "--overwrite", "--strict")
    assert r.code == 1 and not store.exists(".idx.lock")

    def interrupted(*args, **kwargs):
        assert store.exists(".idx.lock")  # held while the build runs
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr("invindex.build.commit", interrupted)
        r = cli("build", str(SAMPLE), "-o", out, "--overwrite", "--stem")
    assert r.code != 0 and not store.exists(".idx.lock")
    assert cli("verify", out).code == 0  # the old index, whole


def test_the_lock_is_never_part_of_the_index(honest):
    """Listings, the claim's checks and the commit's stale-file deletion see the prefix
    only; at a bucket root the lock is in the bucket and left out of the listing."""
    store = get_store(honest)
    root = claim(StoreLocation(honest), overwrite=False)  # an empty bucket: no index yet
    try:
        assert store.exists(f".{store.bucket}.lock") and root.output.names() == []
    finally:
        root.release()
    store.put_bytes("idx/part-00000", b"x")
    held = claim(StoreLocation(f"{honest}/idx"), overwrite=True)
    try:
        assert store.exists(".idx.lock") and held.output.names() == ["part-00000"]
    finally:
        held.release()
    assert not store.exists(f".{store.bucket}.lock")


def test_the_lock_says_who_holds_it_and_nothing_secret(honest):
    store = get_store(honest)
    lock = CloudLock(store, ".idx.lock")
    assert lock.acquire()
    try:
        body = json.loads(store.read_bytes(".idx.lock"))
        assert set(body) == {"owner", "machine", "host", "pid", "started", "expires",
                             "expires_utc", "token"}
        assert body["owner"] == owner_tag() and body["expires"] > time.time() + 500
        if honest.startswith("s3"):  # private as everything else: no grant beyond the owner
            acl = store.client.get_object_acl(Bucket=store.bucket, Key=".idx.lock")
            assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    finally:
        lock.release()


def test_renewal_extends_the_lease_and_a_taken_over_lock_is_not_committed(honest):
    store = get_store(honest)
    held = claim(StoreLocation(f"{honest}/idx"), overwrite=False)
    lock = held.cloud_lock
    first = json.loads(store.read_bytes(".idx.lock"))
    time.sleep(0.01)
    held.confirm()  # renews: a new version with a later expiry
    again = json.loads(store.read_bytes(".idx.lock"))
    assert again["expires"] > first["expires"] and again["token"] == first["token"]
    # another build takes the lock over (as if this one's lease had run out)
    taken = store.put_bytes_if(".idx.lock", _other_builds_lock(600), match=lock.etag)
    with pytest.raises(LockLost, match="taken over by another build"):
        held.confirm()
    held.release()  # leaves the other build's lock alone
    assert store.info(".idx.lock").etag == taken.etag


def _race(bucket: str) -> tuple:
    """Two locks of one key, acquired by two threads released at the same moment."""
    locks = [CloudLock(get_store(bucket), ".idx.lock") for _ in range(2)]
    start = threading.Barrier(2)
    won, refused = [], []

    def take(lock: CloudLock) -> None:
        start.wait()
        try:
            lock.acquire()
            won.append(lock)
        except LockHeld:
            refused.append(lock)

    threads = [threading.Thread(target=take, args=(lk,)) for lk in locks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, refused


def test_racing_builds_one_takes_the_lock(honest):
    """Two fresh claims, then two takers of one stale lock: each time exactly one wins
    and the other is refused."""
    store = get_store(honest)
    for stale in (False, True, True, False, True):
        if stale:
            store.put_bytes_if(".idx.lock", _other_builds_lock(-1))
        won, refused = _race(honest)
        assert len(won) == 1 and len(refused) == 1, (stale, won, refused)
        assert json.loads(store.read_bytes(".idx.lock"))["token"] == won[0].token
        won[0].release()
        assert not store.exists(".idx.lock")



def test_the_lease_is_renewed_in_the_background(honest):
    """A short lease (0.4 s: renewed every 0.1 s) so the thread's renewal shows; the wait
    is generous and no figure is asserted."""
    store = get_store(honest)
    lock = CloudLock(store, ".idx.lock", lease=0.4)
    assert lock.acquire()
    try:
        first = lock.etag
        deadline = time.monotonic() + 60
        while lock.etag == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock.etag != first
    finally:
        lock.release()
    assert not store.exists(".idx.lock")


_HOLDING_BUILD = """
import sys, time
from pathlib import Path
import invindex.build as build
from invindex.cli import main

held, go = Path(sys.argv[1]), Path(sys.argv[2])
commit = build.commit

def at_the_commit(*args, **kwargs):  # the build has run; it waits here, holding its lock
    held.write_text("holding")
    while not go.exists():
        time.sleep(0.05)
    return commit(*args, **kwargs)

build.commit = at_the_commit
sys.exit(main(["build", sys.argv[3], "-o", sys.argv[4]]))
"""


def _start_holding_build(tmp_path, out: str) -> tuple:
    """A real build in another process, stopped just before its commit."""
    held, go = tmp_path / "held", tmp_path / "go"
    proc = subprocess.Popen([sys.executable, "-c", _HOLDING_BUILD, str(held), str(go),
                             str(SAMPLE), out], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not held.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the first build never reached its commit"
        time.sleep(0.1)
    return proc, go


@pytest.mark.parametrize(("honest", "end"), [("s3", "commits"), ("az", "SIGINT"),
                                             ("s3", "SIGTERM"), ("az", "SIGKILL")],
                         indirect=["honest"])
def test_a_running_build_in_another_process(honest, cli, tmp_path, caplog, end):
    """The first build is a real process holding the lock; the second, started while
    it runs, is refused. Then the first commits, or is interrupted (its lock removed,
    the output untouched), or is killed (its lock left, taken over by the next build:
    its pid is gone on this host)."""
    out = f"{honest}/idx"
    store = get_store(honest)
    proc, go = _start_holding_build(tmp_path, out)
    try:
        r = cli("build", str(SAMPLE), "-o", out)
        assert r.code == 1 and len(r.err.strip().splitlines()) == 1
        assert f"another build is writing it ({owner_tag().rsplit('-', 1)[0]}-{proc.pid}" \
            in r.err
        if end == "commits":
            go.touch()
            assert proc.wait(timeout=300) == 0
            assert not store.exists(".idx.lock") and cli("verify", out).code == 0
            return
        proc.send_signal(getattr(signal, end))
        code = proc.wait(timeout=300)
        assert code == (-signal.SIGKILL if end == "SIGKILL" else 128 + getattr(signal, end))
        assert not list(store.list("idx/"))  # nothing committed
        if end != "SIGKILL":
            assert not store.exists(".idx.lock")
            return
        assert store.exists(".idx.lock")
        with caplog.at_level(logging.WARNING, logger="invindex"):
            assert cli("build", str(SAMPLE), "-o", out).code == 0
        assert f"{proc.pid} is no longer running" in caplog.text
        assert not store.exists(".idx.lock")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_retried_request_that_had_landed_keeps_the_lock(honest, monkeypatch):
    """The SDKs retry a request whose answer was lost; if the first attempt had landed,
    the retry of a conditional write answers 412 though the write is ours. The lock
    reads the object back and recognizes its own token (create and renewal)."""
    store = get_store(honest)
    real = store.put_bytes_if

    def landed_then_412(key, data, match=None):
        real(key, data, match)
        raise PreconditionFailed("condition not met (the retry)")

    lock = CloudLock(store, ".idx.lock")
    monkeypatch.setattr(store, "put_bytes_if", landed_then_412)
    assert lock.acquire()
    lock.renew()
    monkeypatch.setattr(store, "put_bytes_if", real)
    assert lock.etag == store.info(".idx.lock").etag and not lock.lost
    lock.release()
    assert not store.exists(".idx.lock")
