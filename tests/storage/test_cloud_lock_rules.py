"""The cloud lock's pure rules (``invindex/index/cloudlock.py``): where the lock goes,
what it holds, when it is stale. No emulator."""

from __future__ import annotations

import json
import subprocess

import pytest

from invindex.errors import UsageError
from invindex.index.cloudlock import (
    describe,
    lease_seconds,
    lock_body,
    lock_key,
    machine_id,
    parse_body,
    stale_reason,
)
from invindex.temps import owner_tag


def test_lock_key_is_beside_the_prefix():
    assert lock_key("a/idx", "b") == "a/.idx.lock"
    assert lock_key("a/b/idx/", "b") == "a/b/.idx.lock"
    assert lock_key("idx", "b") == ".idx.lock"
    assert lock_key("", "b") == ".b.lock"  # a bucket root's, in the bucket


def test_the_body_says_who_and_until_when():
    body = parse_body(lock_body("t0k", 0.0, 100.0, 600.0))
    assert body is not None and body["owner"] == owner_tag() and body["token"] == "t0k"
    assert body["expires"] == 700.0 and body["started"] == "1970-01-01 00:00:00 UTC"
    assert body["expires_utc"] == "1970-01-01 00:11:40 UTC"
    assert describe(body).startswith(f"{owner_tag()}, since 1970-01-01 00:00:00 UTC, lease")
    assert describe(None) == "owner unknown"


def test_when_a_lock_is_stale():
    dead = subprocess.Popen(["true"])
    dead.wait()
    here = owner_tag().rsplit("-", 1)[0]
    live = {"owner": "otherhost-1", "expires": 1000.0}
    assert stale_reason(live, None, 999.0, 600) is None
    assert stale_reason(live, None, 1001.0, 600).startswith("lease expired")
    assert stale_reason({"owner": owner_tag(), "expires": 1000.0}, None, 10, 600) is None
    assert "no longer running" in stale_reason({"owner": f"{here}-{dead.pid}",
                                                "machine": machine_id(),
                                                "expires": 1000.0}, None, 10, 600)
    # the same host name on another machine (a container, a CI runner): its pid is not
    # ours to check, only its lease counts (review finding)
    assert stale_reason({"owner": f"{here}-{dead.pid}", "machine": "elsewhere",
                         "expires": 1000.0}, None, 10, 600) is None
    # an unreadable body: one lease from when it was written
    assert stale_reason(parse_body(b"not json"), 100.0, 650.0, 600) is None
    assert stale_reason(parse_body(b"[1]"), 100.0, 701.0, 600).startswith("unreadable")
    assert json.loads(lock_body("t", 0, 0, 1))  # compact JSON, no secret field


def test_the_lease_setting(monkeypatch):
    monkeypatch.setenv("INVINDEX_LOCK_LEASE", "90")
    assert lease_seconds() == 90.0
    for bad in ("soon", "0", "-5", "nan", "inf"):
        monkeypatch.setenv("INVINDEX_LOCK_LEASE", bad)
        with pytest.raises(UsageError, match="INVINDEX_LOCK_LEASE"):
            lease_seconds()
    monkeypatch.delenv("INVINDEX_LOCK_LEASE")
    assert lease_seconds() == 600.0
