"""The reader: finds every term by bisection, never reads a whole part, refuses bad indexes."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.build import build_index
from invindex.core.analysis import Analyzer
from invindex.core.indexfmt import find_in_part
from invindex.errors import InvindexError
from invindex.index import IndexReader

from .conftest import SAMPLE, read_index_lines


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "idx"
    build_index([str(SAMPLE)], str(out), Analyzer(), parts=3)
    return out


def test_every_term_is_found(index):
    reader = IndexReader(index)
    lines = read_index_lines(index)
    for line in lines:
        assert reader.lookup_line(line.split("\t", 1)[0]) == line
    for absent in ("", "zzzzzz", "0x0x", "aaaa", "light1", "\uffff"):
        assert reader.lookup_line(absent) is None


def test_unknown_partitioning_scans_every_part(index, tmp_path):
    import shutil

    copy = tmp_path / "idx"
    shutil.copytree(index, copy)
    m = json.loads((copy / "_manifest.json").read_text())
    m["partitioning"] = {"scheme": "unknown"}
    (copy / "_manifest.json").write_text(json.dumps(m))
    reader = IndexReader(copy)
    assert reader.lookup("light")["df"] == IndexReader(index).lookup("light")["df"]


class CountingFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        out = super().read(n)
        self.bytes_read += len(out)
        return out

    def readline(self, n: int = -1) -> bytes:
        out = super().readline(n)
        self.bytes_read += len(out)
        return out


def test_lookup_reads_a_small_share_of_a_big_part():
    lines = [f"t{i:06d}\t{{\"df\":1,\"postings\":[[\"d\",1,[{i}]]]}}\n" for i in range(50_000)]
    data = "".join(lines).encode()
    f = CountingFile(data)
    assert find_in_part(f, len(data), "t031337") == lines[31337].encode()
    assert f.bytes_read < len(data) / 20


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",),
                                      blacklist_characters="\t\n"), min_size=1, max_size=8),
                unique=True),
       st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n"),
               min_size=1, max_size=8))
def test_bisection_agrees_with_a_scan(terms, probe):
    terms = sorted(terms, key=lambda t: t.encode())
    data = "".join(f"{t}\t{{}}\n" for t in terms).encode()
    expect = f"{probe}\t{{}}\n".encode() if probe in terms else None
    assert find_in_part(io.BytesIO(data), len(data), probe) == expect
    for t in terms:
        assert find_in_part(io.BytesIO(data), len(data), t) == f"{t}\t{{}}\n".encode()


def test_refuses_newer_format(index, tmp_path):
    import shutil

    copy = tmp_path / "idx"
    shutil.copytree(index, copy)
    m = json.loads((copy / "_manifest.json").read_text())
    m["format_version"] = 99
    (copy / "_manifest.json").write_text(json.dumps(m))
    with pytest.raises(InvindexError, match="upgrade invindex"):
        IndexReader(copy)
