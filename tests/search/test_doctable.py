"""The document table (and stored texts) are the same bytes on every local runner.

A corpus with the cases that matter: a doc_id in several records (lengths add up,
texts kept per record), records with no indexed token (still documents), non-ASCII
doc ids, ids that sort around the JSON quote; checked line for line against the
brute-force reference (tests/reference.py) with and without ``--store-text``.
"""

from __future__ import annotations

import json

import pytest

from invindex.build import build_index
from invindex.core.analysis import Analyzer

from ..conftest import SAMPLE, read_index_lines
from ..reference import reference_lines

RUNNERS = ["fast", "fast-python", "pipe", "inline", "local"]
EXTRA = ("dup\tfirst half of it\n"
         "empty\t...\n"
         "dup\tsecond half\n"
         "caf\u00e9 \u00fcber\tNa\u00efve r\u00e9sum\u00e9 \u4e2d\u6587\n"
         "a b\tspace in the id\n"
         "a!\tbang in the id\n"
         "a\tplain\n"
         "dup\tfirst half of it\n").encode()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("doctable")
    data = b"".join(SAMPLE.read_bytes().splitlines(keepends=True)[:60]) + EXTRA
    (root / "docs.tsv").write_bytes(data)
    return root / "docs.tsv", data


@pytest.mark.parametrize("store_text", [False, True])
def test_document_table_identical_on_every_runner(corpus, tmp_path, store_text):
    path, data = corpus
    expected = reference_lines(data, store_text=store_text)
    analyzer = Analyzer(store_text=store_text)
    for runner in RUNNERS:
        engine = "python" if runner == "fast-python" else "auto"
        out = tmp_path / runner
        summary = build_index([str(path)], str(out), analyzer, runner=runner.split("-")[0],
                              engine=engine, parts=3,  # many batches:
                              batch_bytes=3000, split_bytes=5000)
        assert read_index_lines(out) == expected, runner
        counts = summary.manifest["counts"]
        # documents = distinct doc ids (the table's entries); terms exclude pseudo-terms
        assert counts["documents"] == 60 + 6, runner
        assert counts["terms"] == sum(1 for ln in expected if ln[0] not in "!#"), runner
        assert summary.manifest["format_version"] == 2
        assert summary.manifest["analyzer"]["store_text"] is store_text


def test_zero_token_record_and_repeated_id_lengths(corpus):
    _, data = corpus
    table = {}
    for line in reference_lines(data):
        if line.startswith("!"):
            table.update(dict(json.loads(line.split("\t", 1)[1])["postings"]))
    assert table["empty"] == 0
    assert table["dup"] == 4 + 2 + 4
