"""Search a cloud index in place on the emulators (moto S3, gcp-storage-emulator,
Azurite): the same results as on the local directory, and only ranged reads of a
fraction of the parts (never a whole download)."""

from __future__ import annotations

import random

import pytest

from invindex.build import build_index
from invindex.core.analysis import Analyzer
from invindex.remote import publish_index
from invindex.search.searcher import Searcher
from invindex.search.source import IndexDirSource
from invindex.storage import base

from ..storage.conftest import (  # noqa: F401  (fixtures)
    az,
    az_emulator,
    bucket,
    cloud,
    gcs,
    gcs_emulator,
    s3,
    s3_emulator,
)

QUERIES = ["w1 w2", "+w3 -w4", '"w5 w6"', "(w7 OR w8) AND w9", "w10 NOT w11"]


@pytest.fixture(scope="module")
def local_index(tmp_path_factory):
    rng = random.Random(7)
    root = tmp_path_factory.mktemp("cloudsearch")
    with open(root / "docs.tsv", "w") as f:
        for i in range(3000):
            words = " ".join(f"w{int(rng.paretovariate(1.1))}" for _ in range(rng.randint(5, 60)))
            f.write(f"doc{i:05d}\t{words}\n")
    build_index([str(root / "docs.tsv")], str(root / "idx"), Analyzer(store_text=True),
                parts=2)
    return root / "idx"


def test_cloud_index_searched_in_place(bucket, local_index, monkeypatch):  # noqa: F811
    publish_index(local_index, f"{bucket}/idx")
    local = Searcher(IndexDirSource(str(local_index)))
    expected = [local.search(q, 20).as_dict() for q in QUERIES]
    fetched = []
    block = base.RangedReader._block

    def counting(self, index):  # counts the blocks fetched (not the cache hits)
        cached = index in self._blocks
        data = block(self, index)
        if not cached:
            fetched.append(len(data))
        return data

    monkeypatch.setattr(base.RangedReader, "_block", counting)
    source = IndexDirSource(f"{bucket}/idx")
    source.doc_lengths()  # the document table: the head of each part, no more
    assert sum(fetched) <= 2 * 2 * (1 << 16), fetched
    remote = Searcher(source)
    assert [remote.search(q, 20).as_dict() for q in QUERIES] == expected
    assert source.stored_text("doc00042") == (local_index.parent / "docs.tsv").read_text(
        ).splitlines()[42].split("\t", 1)[1]
    smallest = min(p.stat().st_size for p in local_index.glob("part-*"))
    for term in ("w77", "w25", "w9"):  # one term: a bisection, a fraction of its part
        fetched.clear()
        assert source.postings(term)
        assert sum(fetched) < smallest * 0.8, (term, fetched)
