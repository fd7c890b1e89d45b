"""`invindex build` and `lookup` on cloud URIs, end to end against the emulators.

The issue's case: inputs on S3, the index written to GCS (and Azure), then looked up
in place (ranged reads, no download), and equal to the index built from local files.
"""

from __future__ import annotations

import gzip
import json

from invindex.storage import get_store
from tests.conftest import SAMPLE, read_index_lines


def test_build_s3_to_gs_and_az_then_lookup(s3, gcs, az, make_bucket, cli, tmp_path):
    src = make_bucket("s3")
    data = SAMPLE.read_bytes()
    half = data.index(b"\nkjv:Psalms") + 1
    store = get_store(src)
    (tmp_path / "a.tsv").write_bytes(data[:half])
    (tmp_path / "b.tsv.gz").write_bytes(gzip.compress(data[half:]))
    store.put_file(str(tmp_path / "a.tsv"), "corpus/a.tsv")
    store.put_file(str(tmp_path / "b.tsv.gz"), "corpus/part2/b.tsv.gz")
    store.put_file(str(tmp_path / "a.tsv"), "corpus/_ignored/a.tsv")  # hidden, as Hadoop

    local = tmp_path / "local-idx"
    assert cli("build", str(SAMPLE), "-o", str(local)).code == 0
    want = read_index_lines(local)
    for scheme in ("gs", "az"):
        out = make_bucket(scheme) + "/indexes/sample"
        r = cli("build", f"{src}/corpus/", "-o", out, "--parts", "3")
        assert r.code == 0, r.err
        dl = tmp_path / f"dl-{scheme}"
        assert cli("stage", "cp", "-r", out, str(dl)).code == 0
        assert read_index_lines(dl) == want
        manifest = json.loads((dl / "_manifest.json").read_text())
        assert manifest["inputs"] == [f"{src}/corpus/"]
        assert manifest["counts"]["documents"] == 429
        r = cli("lookup", out, "Light", "darkness")
        assert r.code == 0, r.err
        local_lines = cli("lookup", str(local), "light", "darkness").out
        assert r.out == local_lines
        # an existing cloud output is refused before any work, then replaced
        r = cli("build", str(SAMPLE), "-o", out)
        assert r.code == 1 and "--overwrite" in r.err
        assert cli("build", str(SAMPLE), "-o", out, "--overwrite", "--stem").code == 0
        assert cli("lookup", out, "creating").out.startswith("creat\t")


def test_cloud_input_that_matches_nothing(s3, make_bucket, cli, tmp_path):
    src = make_bucket("s3")
    r = cli("build", f"{src}/nothing/*.tsv", "-o", str(tmp_path / "idx"))
    assert r.code == 2 and "matches no objects" in r.err
    assert not (tmp_path / "idx").exists()
