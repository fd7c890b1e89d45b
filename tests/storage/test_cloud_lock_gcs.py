"""The lock of a cloud output on GCS: what can be tested without the service's check.

gcp-storage-emulator (2026.7.19) ignores ``ifGenerationMatch`` on uploads and deletes:
an upload with ``ifGenerationMatch=0`` replaces an existing object, and a delete naming
another generation deletes it (tried: no 412 either way). So these tests, through
``FaultProxy`` in front of it:
- check the requests the client sends: the lock's create with ``ifGenerationMatch=0``,
  its renewal and its release naming the generation this build wrote;
- let the proxy stand in for the service's check: a request carrying
  ``ifGenerationMatch=N`` is answered 412 (GCS's JSON error) when the lock's current
  generation, read from the emulator just before, is not N (0: when it exists). That
  check and the write it guards are two steps, not one as on the service, so the race
  of two takers is tested on moto and Azurite only (``test_cloud_lock.py``); here the
  refusal, the takeover of a stale lock and the release.
The only conditional uploads and deletes these builds make are the lock's, so the proxy
takes any such request to be about ``LOCK``.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from urllib.parse import quote

import pytest
from faultproxy import FaultProxy

from invindex.storage import get_store
from tests.conftest import SAMPLE

pytestmark = pytest.mark.emulator
LOCK = ".idx.lock"


def _generation(port: int, bucket: str) -> int:
    """The lock's generation on the emulator itself (0: absent)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/storage/v1/b/{bucket}/o/{quote(LOCK, safe='')}")
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return int(json.loads(body)["generation"]) if resp.status == 200 else 0


@pytest.fixture
def gcs_proxy(gcs, monkeypatch, make_bucket):
    """(bucket, proxy): the proxy checks ``ifGenerationMatch`` as GCS does."""
    bucket = make_bucket("gs")
    name = bucket.split("://", 1)[1]

    def check(method: str, path: str, headers):
        m = re.search(r"[?&]ifGenerationMatch=(\d+)", path)
        if not m or int(m.group(1)) == _generation(gcs.port, name):
            return None
        error = {"error": {"code": 412, "message": "At least one of the pre-conditions you "
                           "specified did not hold.", "errors": [{"reason": "conditionNotMet"}]}}
        return 412, json.dumps(error).encode(), {"Content-Type": "application/json"}

    proxy = FaultProxy(gcs.port, answer=check).start()
    for k, v in gcs.env_for(proxy.port).items():
        monkeypatch.setenv(k, v)
    yield bucket, proxy
    proxy.stop()


def _conditional(proxy: FaultProxy):
    return [(m, re.search(r"ifGenerationMatch=(\d+)", p).group(1), p)
            for m, p, _ in proxy.requests if "ifGenerationMatch=" in p]


def _other_builds_lock(expires_in: float) -> bytes:
    return json.dumps({"owner": "buildhost7-4242", "started": "earlier",
                       "expires": time.time() + expires_in, "token": "f" * 16}).encode()


def test_the_lock_requests_are_conditional(gcs_proxy, cli):
    bucket, proxy = gcs_proxy
    assert cli("build", str(SAMPLE), "-o", f"{bucket}/idx").code == 0
    calls = _conditional(proxy)
    create, renew, delete = calls  # created, renewed before the commit, released
    assert create[0] == "POST" and create[1] == "0" and "/upload/" in create[2]
    assert renew[0] == "POST" and int(renew[1]) > 0
    assert delete[0] == "DELETE" and quote(LOCK, safe="") in delete[2]
    assert int(delete[1]) > int(renew[1])  # the generation the renewal wrote
    assert not get_store(bucket).exists(LOCK)


def test_a_locked_prefix_is_refused_and_a_stale_lock_taken_over(gcs_proxy, cli):
    bucket, _ = gcs_proxy
    out = f"{bucket}/idx"
    store = get_store(bucket)
    assert cli("build", str(SAMPLE), "-o", out).code == 0
    before = cli("lookup", out, "light").out
    store.put_bytes(LOCK, _other_builds_lock(600))
    r = cli("build", str(SAMPLE), "-o", out, "--overwrite", "--stem")
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
    assert "another build is writing it (buildhost7-4242" in r.err
    assert cli("lookup", out, "light").out == before
    assert json.loads(store.read_bytes(LOCK))["owner"] == "buildhost7-4242"
    store.put_bytes(LOCK, _other_builds_lock(-5))  # its lease ran out
    assert cli("build", str(SAMPLE), "-o", out, "--overwrite", "--stem").code == 0
    assert not store.exists(LOCK) and cli("verify", out).code == 0
