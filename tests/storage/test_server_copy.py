"""Copies between two buckets of one provider run on the provider's servers.

Each test puts ``FaultProxy`` between the SDK and the emulator, so what it counts is
what crossed this machine's link (request and response bodies): a server-side copy
moves a few kB of requests and answers, the old way the whole object down and up.
The emulators run the real calls: moto's ``CopyObject`` and ``UploadPartCopy``
(multipart, thresholds shrunk), gcp-storage-emulator's ``rewriteTo`` and Azurite's
Copy Blob (``start_copy_from_url``). What they cannot do is answered by the proxy in
the service's own words, with the real client on the other side:

- gcp-storage-emulator finishes every rewrite in one call (no ``rewriteToken``); the
  token loop is driven by the proxy answering the first call as GCS answers a large
  or cross-location rewrite (``done: false`` and a token), then forwarding.
- Azurite copies synchronously (``x-ms-copy-status: success`` at once); a pending copy,
  its polling and a copy that fails on the service are the proxy editing those headers.
- Azurite has no Put Blob From URL (``upload_blob_from_url``, 501): not used.
- No emulator lacks its copy call, so "the service does not implement it" (a 501, as
  other S3-compatible stores or emulators answer) is the proxy's answer too; the copy
  then falls back to the download-and-upload path and the log says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from faultproxy import FaultProxy

from invindex.storage import Settings, StorageError, get_store
from invindex.storage.errors import ObjectNotFound
from invindex.storage.transfer import plan_copy, run_items, transfer_bytes
from tests.conftest import REPO, SAMPLE, read_index_lines

pytestmark = pytest.mark.emulator
SIZE = 3 << 20


def _proxy(emulator, monkeypatch, **kw) -> FaultProxy:
    proxy = FaultProxy(emulator.port, **kw).start()
    for k, v in emulator.env_for(proxy.port).items():
        monkeypatch.setenv(k, v)
    return proxy


@pytest.fixture
def proxied(cloud, monkeypatch):
    proxy = _proxy(cloud, monkeypatch)
    yield proxy
    proxy.stop()


def _object(tmp_path: Path, bucket: str, key: str, size: int = SIZE) -> bytes:
    data = os.urandom(size)
    path = tmp_path / "object"
    path.write_bytes(data)
    get_store(bucket).put_file(str(path), key)
    path.unlink()
    return data


def _moved(proxy: FaultProxy) -> int:
    return proxy.bytes_up + proxy.bytes_down


def _is_copy(method: str, path: str, headers) -> bool:
    """The copy request of any of the three services."""
    names = {k.lower() for k in headers}
    return (method == "PUT" and ("x-amz-copy-source" in names or "x-ms-copy-source" in names)
            or method == "POST" and "/rewriteTo/" in path)


def test_copy_within_a_provider_stays_on_its_servers(make_bucket, cloud, proxied, tmp_path, caplog):
    """Fails with the old copy_item: it downloads the object and uploads it again."""
    a, b = make_bucket(cloud.scheme), make_bucket(cloud.scheme)
    data = _object(tmp_path, a, "in/obj.bin")
    before = _moved(proxied)
    plan = plan_copy(f"{a}/in/", f"{b}/out/", recursive=True)
    seen: list = []
    with caplog.at_level(logging.INFO, logger="invindex"):
        summary = run_items(plan.items, seen.append)
    moved = _moved(proxied) - before
    assert moved < SIZE // 16, f"{moved} bytes crossed this machine's link"
    assert transfer_bytes(plan.items) == SIZE  # what a progress bar will see, once
    assert summary.files == 1 and summary.bytes == SIZE
    assert sum(seen) == SIZE
    assert any(_is_copy(*r) for r in proxied.requests)
    assert "server-side" in caplog.text
    dst = get_store(b)
    info = dst.info("out/obj.bin")
    assert info.size == SIZE and info.md5 == hashlib.md5(data).hexdigest()
    dst.get_file("out/obj.bin", str(tmp_path / "back"))  # verified against its digests
    assert (tmp_path / "back").read_bytes() == data


def test_s3_multipart_copy_keeps_metadata(make_bucket, s3, monkeypatch, tmp_path):
    """Above the threshold boto3's managed copy uses UploadPartCopy, parts in parallel;
    the ``md5`` metadata comes along (later downloads are checked against it)."""
    proxy = _proxy(s3, monkeypatch)
    try:
        settings = Settings(threshold=5 << 20, part_size=5 << 20)
        a, b = make_bucket("s3"), make_bucket("s3")
        data = _object(tmp_path, a, "big.bin", 11 << 20)
        before = _moved(proxy)
        plan = plan_copy(f"{a}/big.bin", f"{b}/copy/big.bin", settings=settings)
        seen: list = []
        run_items(plan.items, seen.append)
        assert _moved(proxy) - before < 1 << 20
        parts = [p for m, p, h in proxy.requests if m == "PUT" and "partNumber=" in p
                 and any(k.lower() == "x-amz-copy-source-range" for k in h)]
        assert len(parts) == 3
        assert sum(seen) == 11 << 20 and len(seen) == 3
        dst = get_store(b, settings)
        head = dst.client.head_object(Bucket=dst.bucket, Key="copy/big.bin")
        assert head["Metadata"]["md5"] == hashlib.md5(data).hexdigest()
        assert head["ETag"].strip('"').endswith("-3")
        dst.get_file("copy/big.bin", str(tmp_path / "back"))
        assert (tmp_path / "back").read_bytes() == data
    finally:
        proxy.stop()


def test_s3_copy_failing_mid_way_leaves_nothing(make_bucket, s3, monkeypatch, tmp_path):
    """The second part's copy is refused: the multipart upload is aborted, and no
    object (nor an upload in progress) is left at the destination."""
    def refuse_part_2(method, path, headers):
        if _is_copy(method, path, headers) and "partNumber=2" in path:
            return 403, (b"<Error><Code>AccessDenied</Code><Message>injected</Message>"
                         b"</Error>"), {"Content-Type": "application/xml"}
        return None

    proxy = _proxy(s3, monkeypatch, answer=refuse_part_2)
    try:
        settings = Settings(threshold=5 << 20, part_size=5 << 20)
        a, b = make_bucket("s3"), make_bucket("s3")
        _object(tmp_path, a, "big.bin", 11 << 20)
        plan = plan_copy(f"{a}/big.bin", f"{b}/big.bin", settings=settings)
        with pytest.raises(StorageError):
            run_items(plan.items)
        dst = get_store(b)
        with pytest.raises(ObjectNotFound):
            dst.info("big.bin")
        assert not dst.client.list_multipart_uploads(Bucket=dst.bucket).get("Uploads")
    finally:
        proxy.stop()


def _first_rewrite_partial(calls: list):
    """The first rewriteTo answered as GCS answers a long rewrite: not done, a token."""
    def answer(method, path, headers):
        if method == "POST" and "/rewriteTo/" in path:
            calls.append(path)
            if len(calls) == 1:
                body = {"kind": "storage#rewriteResponse", "totalBytesRewritten": str(SIZE // 3),
                        "objectSize": str(SIZE), "done": False, "rewriteToken": "tok-1"}
                return 200, json.dumps(body).encode(), {"Content-Type": "application/json"}
            if len(calls) > 2 or "rewriteToken=tok-1" not in path:
                return 403, json.dumps({"error": {"code": 403, "message": "injected"}}
                                       ).encode(), {"Content-Type": "application/json"}
        return None
    return answer


def test_gcs_rewrite_follows_its_token(make_bucket, gcs, monkeypatch, tmp_path):
    calls: list = []
    proxy = _proxy(gcs, monkeypatch, answer=_first_rewrite_partial(calls))
    try:
        a, b = make_bucket("gs"), make_bucket("gs")
        data = _object(tmp_path, a, "obj")
        seen: list = []
        run_items(plan_copy(f"{a}/obj", f"{b}/obj").items, seen.append)
        assert len(calls) == 2 and "rewriteToken=tok-1" in calls[1]
        assert seen == [SIZE // 3, SIZE - SIZE // 3]
        info = get_store(b).info("obj")
        assert info.md5 == hashlib.md5(data).hexdigest() and info.crc32c
    finally:
        proxy.stop()


def test_gcs_rewrite_failing_mid_way_leaves_nothing(make_bucket, gcs, monkeypatch, tmp_path):
    calls: list = []
    answer = _first_rewrite_partial(calls)

    def second_fails(method, path, headers):
        if method == "POST" and "/rewriteTo/" in path and calls:
            path = path.replace("rewriteToken=tok-1", "rewriteToken=other")
        return answer(method, path, headers)

    proxy = _proxy(gcs, monkeypatch, answer=second_fails)
    try:
        a, b = make_bucket("gs"), make_bucket("gs")
        _object(tmp_path, a, "obj")
        with pytest.raises(StorageError):
            run_items(plan_copy(f"{a}/obj", f"{b}/obj").items)
        with pytest.raises(ObjectNotFound):
            get_store(b).info("obj")
    finally:
        proxy.stop()


def _azure_copy_status(states: list):
    """Report the copy as the service does for a long one: pending (with progress) on
    the Copy Blob answer and the first polls, then each state in ``states``."""
    polls: list = []

    def edit(method, path, status, headers):
        names = {k.lower() for k, _ in headers}
        if method == "PUT" and "x-ms-copy-status" in names:
            return [(k, "pending" if k.lower() == "x-ms-copy-status" else v)
                    for k, v in headers]
        if method == "HEAD" and "x-ms-copy-status" in names and states:
            polls.append(path)
            state = states.pop(0)
            out = [(k, v) for k, v in headers if k.lower() not in (
                "x-ms-copy-status", "x-ms-copy-progress", "x-ms-copy-status-description")]
            total = next(int(v) for k, v in headers if k.lower() == "content-length")
            out += [("x-ms-copy-status", state), ("x-ms-copy-progress",
                                                  f"{total // 2 if state == 'pending' else total}"
                                                  f"/{total}")]
            if state == "failed":
                out.append(("x-ms-copy-status-description", "500 InternalError injected"))
            return out
        return headers
    return edit, polls


def test_azure_copy_is_polled_until_done(make_bucket, az, monkeypatch, tmp_path):
    edit, polls = _azure_copy_status(["pending", "success"])
    proxy = _proxy(az, monkeypatch, edit=edit)
    try:
        a, b = make_bucket("az"), make_bucket("az")
        data = _object(tmp_path, a, "obj")
        seen: list = []
        run_items(plan_copy(f"{a}/obj", f"{b}/obj").items, seen.append)
        assert len(polls) == 2
        assert seen == [SIZE // 2, SIZE - SIZE // 2]
        assert get_store(b).info("obj").md5 == hashlib.md5(data).hexdigest()
    finally:
        proxy.stop()


def test_azure_copy_failing_on_the_service_leaves_nothing(make_bucket, az, monkeypatch, tmp_path):
    edit, polls = _azure_copy_status(["pending", "failed"])
    proxy = _proxy(az, monkeypatch, edit=edit)
    try:
        a, b = make_bucket("az"), make_bucket("az")
        _object(tmp_path, a, "obj")
        with pytest.raises(StorageError, match="failed"):
            run_items(plan_copy(f"{a}/obj", f"{b}/obj").items)
        with pytest.raises(ObjectNotFound):
            get_store(b).info("obj")
    finally:
        proxy.stop()


def test_azure_pending_copy_does_not_look_complete(make_bucket, az, monkeypatch, tmp_path):
    """While Copy Blob runs, the service shows the destination at once, with the
    source's properties and ``x-ms-copy-status: pending`` (the proxy says so of a real
    blob here): it has no MD5 for sync to match and a download is refused."""
    def pending(method, path, status, headers):
        if method in ("GET", "HEAD") and path.split("?")[0].endswith("/obj"):
            drop = ("x-ms-copy-status", "x-ms-copy-id", "x-ms-copy-progress")
            return [(k, v) for k, v in headers if k.lower() not in drop] + [
                ("x-ms-copy-status", "pending"), ("x-ms-copy-id", "c0ffee"),
                ("x-ms-copy-progress", f"0/{SIZE}")]
        return headers

    proxy = _proxy(az, monkeypatch, edit=pending)
    try:
        a = make_bucket("az")
        _object(tmp_path, a, "obj")
        store = get_store(a)
        assert store.info("obj").md5 is None
        with pytest.raises(StorageError, match="pending"):
            store.get_file("obj", str(tmp_path / "back"))
        assert not (tmp_path / "back").exists()
    finally:
        proxy.stop()


def test_unimplemented_copy_falls_back_through_this_machine(make_bucket, cloud, monkeypatch,
                                                            tmp_path, caplog):
    def not_implemented(method, path, headers):
        if _is_copy(method, path, headers):
            if cloud.scheme == "gs":
                return 501, json.dumps({"error": {"code": 501, "message": "not implemented"}}
                                       ).encode(), {"Content-Type": "application/json"}
            return 501, (b"<Error><Code>NotImplemented</Code><Message>A header you provided "
                         b"implies functionality that is not implemented</Message></Error>"), {
                "Content-Type": "application/xml", "x-ms-error-code": "NotImplemented"}
        return None

    proxy = _proxy(cloud, monkeypatch, answer=not_implemented)
    try:
        a, b = make_bucket(cloud.scheme), make_bucket(cloud.scheme)
        data = _object(tmp_path, a, "obj")
        with caplog.at_level(logging.INFO, logger="invindex"):
            run_items(plan_copy(f"{a}/obj", f"{b}/obj").items)
        assert any(_is_copy(*r) for r in proxy.requests)
        assert re.search(r"server-side copy.*not (available|implemented|supported)",
                         caplog.text, re.S | re.I)
        assert "through this machine" in caplog.text
        get_store(b).get_file("obj", str(tmp_path / "back"))
        assert (tmp_path / "back").read_bytes() == data
    finally:
        proxy.stop()


def test_across_providers_goes_through_this_machine(make_bucket, s3, gcs, tmp_path, caplog):
    a, b = make_bucket("s3"), make_bucket("gs")
    data = _object(tmp_path, a, "obj")
    plan = plan_copy(f"{a}/obj", f"{b}/obj")
    assert transfer_bytes(plan.items) == 2 * SIZE  # down, then up
    seen: list = []
    with caplog.at_level(logging.INFO, logger="invindex"):
        run_items(plan.items, seen.append)
    assert sum(seen) == 2 * SIZE
    assert "through this machine" in caplog.text
    assert get_store(b).info("obj").md5 == hashlib.md5(data).hexdigest()


def test_azure_across_accounts_is_not_server_side(az):
    """Another account's blob cannot be read by Copy Blob without a SAS: not tried."""
    from invindex.storage.uri import parse_uri

    here = get_store("az://c1")
    there = get_store(parse_uri("wasbs://c2@otheraccount.blob.core.windows.net/x"))
    assert here.server_copy_source(get_store("az://c2"))
    assert not here.server_copy_source(there)
    assert not there.server_copy_source(here)


def test_commit_from_a_cloud_staging_prefix_copies_on_the_server(make_bucket, cloud, proxied, cli,
                                                                 tmp_path):
    """A job that wrote its parts beside an existing index (``remote_staging``) is
    committed by copies on the server: the parts never come down to this machine."""
    from invindex.index.commit import commit, remote_staging
    from invindex.index.location import StoreLocation

    local = tmp_path / "idx"
    assert cli("build", str(SAMPLE), "-o", str(local), "--parts", "3").code == 0
    bucket = make_bucket(cloud.scheme)
    out = f"{bucket}/indexes/sample"
    assert cli("stage", "cp", "-r", str(local), out).code == 0  # the index to replace
    output = StoreLocation(out)
    staging = remote_staging(output)
    assert staging.uri != output.uri
    manifest = json.loads((local / "_manifest.json").read_text())
    names = [n for n in os.listdir(local) if n not in ("_SUCCESS", "_manifest.json")]
    staging.put_files(local, names)
    size = sum((local / n).stat().st_size for n in names)
    before = _moved(proxied)
    seen: list = []
    commit(staging, output, manifest, overwrite=True, callback=seen.append)
    moved = _moved(proxied) - before
    assert moved < size // 4, f"{moved} of {size} bytes crossed this machine's link"
    output = StoreLocation(out)
    assert sum(seen) == sum(output.size(n) for n in output.names() if n != "_SUCCESS")
    assert not staging.names()
    dl = tmp_path / "dl"
    assert cli("stage", "cp", "-r", out, str(dl)).code == 0
    assert read_index_lines(dl) == read_index_lines(local)
    assert cli("verify", out).code == 0


def test_stage_cp_verbose_says_which_way(make_bucket, s3, gcs, tmp_path):
    """As a user runs it (a subprocess: pytest's handlers would keep the CLI's logging
    set-up from doing anything)."""
    def run(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get(
            "PYTHONPATH", "")}
        return subprocess.run([sys.executable, "-m", "invindex", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    a, b, g = make_bucket("s3"), make_bucket("s3"), make_bucket("gs")
    _object(tmp_path, a, "in/obj", 1 << 20)
    r = run("-v", "stage", "cp", "-r", f"{a}/in/", f"{b}/out/")
    assert r.returncode == 0, r.stderr
    assert f"{a}/in/obj -> {b}/out/obj: server-side copy" in r.stderr
    r = run("-v", "stage", "cp", "-r", f"{a}/in/", f"{g}/out/")
    assert r.returncode == 0, r.stderr
    assert "copying through this machine (s3 to gs" in r.stderr


def test_sync_within_a_provider_then_nothing_to_do(make_bucket, cloud, proxied, tmp_path):
    """A server-side copy keeps the digests ``sync`` compares: a second sync skips it."""
    from invindex.storage.transfer import sync

    a, b = make_bucket(cloud.scheme), make_bucket(cloud.scheme)
    _object(tmp_path, a, "in/x", 1 << 20)
    _object(tmp_path, a, "in/y/z", 1 << 20)
    before = _moved(proxied)
    first = sync(f"{a}/in/", f"{b}/out/")
    assert first.files == 2 and _moved(proxied) - before < 1 << 18
    again = sync(f"{a}/in/", f"{b}/out/")
    assert again.files == 0 and again.skipped == 2
