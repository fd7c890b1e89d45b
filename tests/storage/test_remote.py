"""The glue for ``build``/``lookup`` on cloud URIs: stage inputs, publish, read in place."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from invindex.build import build_index
from invindex.core import indexfmt
from invindex.core.analysis import Analyzer
from invindex.errors import InvindexError, NotFound, UsageError
from invindex.remote import RemoteIndex, open_index, publish_index, stage_inputs
from invindex.storage import get_store
from invindex.storage.transfer import copy

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "sample_data" / "docs.tsv"


def test_stage_inputs_objects_prefixes_globs(bucket, tmp_path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "more").mkdir(parents=True)
    (corpus / "a.tsv").write_text("a\tone two\n")
    with gzip.open(corpus / "more" / "b.tsv.gz", "wt") as f:
        f.write("b\tthree\n")
    (corpus / "_SUCCESS").write_text("")
    (corpus / "more" / ".hidden").write_text("x\ty\n")
    copy(str(corpus), f"{bucket}/corpus", recursive=True)
    local = tmp_path / "local.tsv"
    local.write_text("c\tfour\n")
    staged = stage_inputs([f"{bucket}/corpus/", str(local), f"{bucket}/corpus/*.tsv",
                           f"{bucket}/corpus/more/b.tsv.gz"], tmp_path / "stage")
    names = [p.name for p in staged]
    assert names == ["a.tsv", "b.tsv.gz", "local.tsv", "a.tsv", "b.tsv.gz"]
    assert staged[2] == local  # local arguments pass through untouched
    assert staged[0].read_text() == "a\tone two\n"
    assert gzip.decompress(staged[1].read_bytes()) == b"b\tthree\n"
    with pytest.raises(UsageError, match="matches no objects"):
        stage_inputs([f"{bucket}/nothing-here/"], tmp_path / "stage2")


def test_build_publish_lookup_in_place(bucket, tmp_path) -> None:
    """What ``invindex build s3://.../docs.tsv --output gs://.../index`` and ``lookup``
    do with these functions: stage, build locally, publish, bisect remote parts."""
    get_store(bucket).put_file(DOCS, "in/docs.tsv")
    inputs = stage_inputs([f"{bucket}/in/docs.tsv"], tmp_path / "stage")
    build_index([str(p) for p in inputs], str(tmp_path / "idx"), Analyzer(), runner="fast",
                parts=3)
    local_lines = sorted(line for part in sorted((tmp_path / "idx").glob("part-*"))
                         for line in part.read_text(encoding="utf-8").splitlines())
    publish_index(tmp_path / "idx", f"{bucket}/index")
    keys = [i.key for i in get_store(bucket).list("index/")]
    assert "index/_SUCCESS" in keys and "index/_manifest.json" in keys
    index = open_index(f"{bucket}/index/")
    manifest = indexfmt.load_manifest(index.read_manifest())
    assert len(manifest["parts"]) == 3
    for line in local_lines[:: max(1, len(local_lines) // 25)]:
        term = line.split("\t", 1)[0]
        found = None
        for part in indexfmt.candidate_parts(manifest, term):
            with index.open(part) as f:
                found = indexfmt.find_in_part(f, index.size(part), term) or found
        assert found is not None and found.decode("utf-8").rstrip("\n") == line
    with index.open(manifest["parts"][0]) as f:
        assert indexfmt.find_in_part(f, index.size(manifest["parts"][0]), "zzzz-no") is None


def _index(directory: Path, parts: dict) -> Path:
    directory.mkdir(parents=True)
    for name, text in parts.items():
        (directory / name).write_text(text)
    (directory / indexfmt.MANIFEST).write_bytes(indexfmt.dump_manifest(indexfmt.make_manifest(
        analyzer={}, counts={}, parts=sorted(parts), partitioning={"scheme": "unknown"},
        runner="test", inputs=[], created="now", version="0")))
    (directory / indexfmt.SUCCESS).write_bytes(b"")
    return directory


def test_publish_refuses_then_overwrites_cleanly(bucket, tmp_path, monkeypatch) -> None:
    old = _index(tmp_path / "old", {"part-00000": "a\t{}\n", "part-00001": "b\t{}\n"})
    new = _index(tmp_path / "new", {"part-00000": "c\t{}\n"})
    uri = f"{bucket}/idx"
    publish_index(old, uri)
    with pytest.raises(InvindexError, match="already exists"):
        publish_index(new, uri)
    store = get_store(bucket)
    order = []
    real_delete, real_put = store.delete, store.put_file
    monkeypatch.setattr(type(store), "delete",
                        lambda self, key: (order.append(("del", key)), real_delete(key))[1])
    monkeypatch.setattr(type(store), "put_file",
                        lambda self, p, key, cb=None: (order.append(("put", key)),
                                                       real_put(p, key, cb))[1])
    publish_index(new, uri, overwrite=True)
    assert order[0] == ("del", "idx/_SUCCESS")          # readers refuse from here on
    assert order[-1] == ("put", "idx/_SUCCESS")         # and accept only the whole new one
    assert ("del", "idx/part-00001") in order           # no stale part left behind
    assert sorted(i.key for i in store.list("idx/")) == [
        "idx/_SUCCESS", "idx/_manifest.json", "idx/part-00000"]
    assert store.read_bytes("idx/part-00000") == b"c\t{}\n"


def test_reader_refuses_unfinished_or_missing(bucket, tmp_path) -> None:
    idx = _index(tmp_path / "i", {"part-00000": "a\t{}\n"})
    publish_index(idx, f"{bucket}/i")
    get_store(bucket).delete("i/_SUCCESS")
    with pytest.raises(InvindexError, match="no _SUCCESS"):
        open_index(f"{bucket}/i")
    with pytest.raises(NotFound, match="no index"):
        open_index(f"{bucket}/nothing")
    r = RemoteIndex(f"{bucket}/i")
    assert not r.has_success() and r.exists("part-00000")
    assert json.loads(r.read_manifest())["parts"] == ["part-00000"]


def test_publish_needs_a_finished_local_index(tmp_path) -> None:
    (tmp_path / "half").mkdir()
    with pytest.raises(InvindexError, match="not a finished index"):
        publish_index(tmp_path / "half", str(tmp_path / "dest"))
