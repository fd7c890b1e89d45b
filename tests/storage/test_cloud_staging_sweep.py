"""A killed cloud build's staging prefix is swept by the next build (or publish) into
that output, on moto's S3, gcp-storage-emulator and Azurite.

A build writing URIs in place (emr, hadoop, dataproc) into an existing cloud index has
its job write the parts under ``.NAME.tmp-HOST-PID-RANDOM/`` beside the output and
copies them in at the commit. The killed build here is a real ``invindex build -r
hadoop --overwrite`` in another process, the whole pipeline (claim, lock, staging,
in-place request) as it is, except the cluster job: a stand-in writes what the job
would have written at the staging prefix (a part and Hadoop's ``_temporary`` leftovers)
and then never finishes, and the test SIGKILLs the process there, before its commit.
Before the fix nothing ever deleted that prefix; and at a bucket root it lay inside the
root's listing, so the next ``--overwrite`` was refused as a foreign file.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from invindex.remote import publish_index
from invindex.storage import get_store
from invindex.temps import owner_tag
from tests.conftest import SAMPLE

pytestmark = pytest.mark.emulator

_KILLED_BUILD = """
import sys, time
from pathlib import Path
from invindex.cli import main
from invindex.index.location import index_location
from invindex.runners.base import Runner

held = Path(sys.argv[1])

def job(self, req):  # the cluster's job: parts at its -output, then it runs on
    staging = index_location(req.output_uri)
    staging.write_bytes("part-00000", b"half\\t{}\\n")
    staging.write_bytes("_temporary/0/_temporary/attempt_1/part-00001", b"more\\t{}\\n")
    held.write_text(req.output_uri)
    while True:
        time.sleep(1)

Runner.check = lambda self, req: None
Runner.run = job
sys.exit(main(["build", sys.argv[2], "-o", sys.argv[3], "--overwrite", "-r", "hadoop"]))
"""

# Other outputs' staging (another host's, so not swept as a dead pid of this one) and
# user objects that merely start like ours: none of them may be touched.
_NEIGHBOURS = [".idx2.tmp-otherhost-99-0123abcd/part-00000",  # output idx2
               ".idx.tmp-x.tmp-otherhost-99-0123abcd/part-00000",  # output idx.tmp-x
               ".idx.tmp-notes",  # a user's object
               ".idx.tmp-otherhost-99-0123abcd-copy/part-00000",  # not our pattern
               "idx2/part-00000"]


def _killed_build(tmp_path: Path, out: str) -> str:
    """Run the stand-in build until its job has written its staging, SIGKILL it; the
    staging prefix's URI."""
    held = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, str(held), str(SAMPLE),
                             out], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not held.exists() or not held.read_text():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the killed build never ran its job"
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    staging = held.read_text()
    assert f".tmp-{owner_tag().rsplit('-', 1)[0]}-{proc.pid}-" in staging
    return staging


def _keys(bucket: str, prefix: str = "") -> list:
    return sorted(i.key for i in get_store(bucket).list(prefix))


@pytest.mark.parametrize("then", ["build", "publish"])
def test_the_next_build_sweeps_a_killed_builds_staging(bucket, cli, tmp_path, caplog, then):
    out = f"{bucket}/a/idx"
    assert cli("build", str(SAMPLE), "-o", out).code == 0
    store = get_store(bucket)
    for key in _NEIGHBOURS:
        store.put_bytes(f"a/{key}", b"not yours")
    staging = _killed_build(tmp_path, out)
    prefix = staging.split("/", 3)[3] + "/"
    assert _keys(bucket, prefix)  # the dead build's objects, left behind
    with caplog.at_level(logging.DEBUG, logger="invindex"):
        if then == "build":
            r = cli("-v", "build", str(SAMPLE), "-o", out, "--overwrite", "--stem")
            assert r.code == 0, r.err
        else:
            local = tmp_path / "stemmed"
            assert cli("build", str(SAMPLE), "-o", str(local), "--stem").code == 0
            publish_index(str(local), out, overwrite=True)
    assert _keys(bucket, prefix) == []
    assert sorted(k for k in _keys(bucket, "a/") if not k.startswith("a/idx/")) == sorted(
        f"a/{k}" for k in _NEIGHBOURS)
    assert all(store.read_bytes(f"a/{k}") == b"not yours" for k in _NEIGHBOURS)
    assert cli("lookup", out, "creating").out.startswith("creat\t")  # the new index
    assert cli("verify", out).code == 0
    swept = [r for r in caplog.records
             if r.name == "invindex.index.commit" and r.levelno >= logging.INFO]
    assert [r.levelno for r in swept] == [logging.INFO], caplog.text  # one line at -v
    assert staging in swept[0].getMessage() and "2 object(s)" in swept[0].getMessage()
    assert any(f"{staging}/part-00000" in r.getMessage() for r in caplog.records
               if r.levelno == logging.DEBUG)


def test_a_bucket_root_overwrite_after_a_killed_build(bucket, cli, tmp_path):
    """At a bucket root the staging prefix ``.BUCKET.tmp-...`` is inside the root: it is
    left out of the root's listing (as the root's lock is) and swept like any other."""
    assert cli("build", str(SAMPLE), "-o", bucket).code == 0
    staging = _killed_build(tmp_path, bucket)
    name = get_store(bucket).bucket
    assert staging.startswith(f"{bucket}/.{name}.tmp-")
    r = cli("build", str(SAMPLE), "-o", bucket, "--overwrite", "--stem")
    assert r.code == 0, r.err
    assert not [k for k in _keys(bucket) if k.startswith(f".{name}.tmp-")]
    assert cli("lookup", bucket, "creating").out.startswith("creat\t")
    assert cli("verify", bucket).code == 0


def test_unlocked_only_a_dead_process_of_this_host_is_swept(bucket):
    """A service that cannot lock (a warning, an unlocked build): another build may be
    writing its staging, so only that of a dead process of this host goes."""
    from invindex.index.commit import sweep_staging
    from invindex.index.location import StoreLocation

    dead = subprocess.Popen(["true"])
    dead.wait()
    host = owner_tag().rsplit("-", 1)[0]
    store = get_store(bucket)
    mine, other = f".idx.tmp-{host}-{dead.pid}-0123abcd", ".idx.tmp-otherhost-7-0123abcd"
    for key in (f"{mine}/part-00000", f"{other}/part-00000", "idx/part-00000"):
        store.put_bytes(key, b"x")
    assert sweep_staging(StoreLocation(f"{bucket}/idx"), locked=False) == [
        f"{bucket}/{mine}"]
    assert _keys(bucket) == [f"{other}/part-00000", "idx/part-00000"]
