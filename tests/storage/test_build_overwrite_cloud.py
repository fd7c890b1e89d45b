"""``build --overwrite`` onto a cloud prefix, on the emulators (issue 9 item 4, issue 10).

Before: the prefix was emptied of everything, an index or not; now only an index is
replaced (anything else refuses the overwrite, naming one object), and a rebuild that
fails leaves the old index whole and readable.
"""

from __future__ import annotations

from invindex.storage import get_store
from tests.conftest import SAMPLE


def test_overwrite_refuses_a_prefix_with_other_objects(bucket, cli, tmp_path):
    out = f"{bucket}/idx"
    assert cli("build", str(SAMPLE), "-o", out).code == 0
    store = get_store(bucket)
    store.put_bytes("idx/notes/readme.txt", b"mine")
    r = cli("build", str(SAMPLE), "-o", out, "--overwrite")
    assert r.code == 1 and "'notes/readme.txt'" in r.err and "not part of an index" in r.err
    assert store.read_bytes("idx/notes/readme.txt") == b"mine"
    assert cli("lookup", out, "light").code == 0  # the old index untouched
    store.delete("idx/notes/readme.txt")
    assert cli("build", str(SAMPLE), "-o", out, "--overwrite", "--stem").code == 0


def test_failed_rebuild_leaves_the_old_cloud_index_readable(bucket, cli, tmp_path):
    out = f"{bucket}/idx"
    assert cli("build", str(SAMPLE), "-o", out).code == 0
    before = cli("lookup", out, "light").out
    bad = tmp_path / "bad.tsv"
    bad.write_bytes(b"a\tfine\nno tab here\n")
    r = cli("build", str(bad), "-o", out, "--overwrite", "--strict")
    assert r.code == 1 and "no tab" in r.err
    assert cli("lookup", out, "light").out == before
