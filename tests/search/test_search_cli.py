"""``invindex search``: formats, --queries, errors (syntax: one line, exit 2), v1 indexes."""

from __future__ import annotations

import json

import pytest

from invindex.core import indexfmt

from .conftest import write_index

RECORDS = [("d1", "the quick brown fox"), ("d2", "quick quick fox jumps"),
           ("d3", "lazy dog of the fox"), ("d4", "nothing here"), ("d5", "")]


@pytest.fixture
def index(tmp_path):
    return str(write_index(tmp_path / "idx", RECORDS, frozenset({"the", "of"})))


def test_text_tsv_trec_json(cli, index):
    r = cli("search", index, "quick fox", "--format", "tsv")
    assert r.code == 0, r.err
    rows = [ln.split("\t") for ln in r.out.splitlines()]
    assert [row[:2] for row in rows] == [["1", "d2"], ["2", "d1"], ["3", "d3"]]
    assert all(len(row[2].split(".")[1]) == 6 for row in rows)
    r = cli("search", index, "quick fox", "--format", "trec", "-k", "1")
    assert r.out == f"1 Q0 d2 1 {rows[0][2]} invindex\n"
    r = cli("search", index, "quick fox", "--format", "json")
    d = json.loads(r.out)
    assert d["total"] == 3 and [h["doc_id"] for h in d["hits"]] == ["d2", "d1", "d3"]
    r = cli("search", index, "quick fox", "-k", "2")
    assert "3 document(s) match 'quick fox' (the best 2)" in r.out and "d2" in r.out


def test_queries_file(cli, index, tmp_path):
    qf = tmp_path / "q.tsv"
    qf.write_text('a\t+fox -quick\n\nb\t"dog the of fox"\nb2\t"dog the fox"\nc\tzebra\n')
    r = cli("search", index, "--queries", str(qf), "--format", "tsv")
    assert r.code == 0, r.err
    assert [ln.split("\t")[:3] for ln in r.out.splitlines()] == [
        ["a", "1", "d3"], ["b", "1", "d3"]]
    r = cli("search", index, "--queries", str(qf), "--format", "json")
    assert [json.loads(ln)["qid"] for ln in r.out.splitlines()] == ["a", "b", "b2", "c"]


@pytest.mark.parametrize("query", ['"fox', "(fox", "fox)", "AND fox", "fox AND", "+", "()",
                                   "", "NOT", "(" * 5000 + "fox" + ")" * 5000])
def test_syntax_error_is_one_line_exit_2(cli, index, query):
    r = cli("search", index, query)
    assert r.code == 2
    assert r.err.count("\n") == 1 and r.err.startswith("invindex: error: ")
    assert "Traceback" not in r.err and len(r.err) < 300


def test_syntax_error_in_queries_file_names_the_query(cli, index, tmp_path):
    qf = tmp_path / "q.tsv"
    qf.write_text("ok\tfox\nbad\t(fox\n")
    r = cli("search", index, "--queries", str(qf))
    assert r.code == 2 and "query bad:" in r.err


def test_queries_file_line_without_tab(cli, index, tmp_path):
    qf = tmp_path / "q.tsv"
    qf.write_text("just words\n")
    r = cli("search", index, "--queries", str(qf))
    assert r.code == 2 and "q.tsv:1" in r.err


def test_only_excluded_or_stopwords_match_nothing(cli, index):
    for q in (" -fox", "-fox -quick", "NOT fox", "the", '"of the"'):
        r = cli("search", index, q, "--format", "tsv")
        assert r.code == 0 and r.out == "", q
    r = cli("search", index, "-fox nothing", "--format", "tsv")  # with a space: a positional
    assert r.code == 0 and r.out.split("\t")[1] == "d4"


def test_format_1_index_says_rebuild(cli, index, tmp_path):
    path = tmp_path / "idx" / indexfmt.MANIFEST
    m = json.loads(path.read_text())
    m["format_version"] = 1
    path.write_text(json.dumps(m))
    r = cli("search", index, "fox")
    assert r.code == 1 and "rebuild" in r.err and r.err.count("\n") == 1
    assert cli("lookup", index, "fox").code == 0  # lookup still reads it


def test_phrase_without_positions_is_a_usage_error(cli, tmp_path):
    index = write_index(tmp_path / "np", RECORDS, positions=False)
    r = cli("search", str(index), '"quick fox"')
    assert r.code == 2 and "--no-positions" in r.err
    assert cli("search", str(index), "quick fox").code == 0


def test_built_index_searchable_on_every_local_runner(cli, tmp_path):
    """The document table each runner writes gives the same results."""
    docs = tmp_path / "docs.tsv"
    docs.write_text("".join(f"{d}\t{t}\n" for d, t in RECORDS))
    outs = []
    for runner in ("fast", "pipe", "inline"):
        assert cli("build", str(docs), "-o", str(tmp_path / runner), "-r", runner,
                   "--stopwords", "english").code == 0
        outs.append(cli("search", str(tmp_path / runner), 'quick OR "dog the fox"',
                        "--format", "tsv").out)
    assert outs[0] and outs[0] == outs[1] == outs[2]


def test_compact_copy_gives_the_same_results(cli, index, tmp_path, monkeypatch):
    monkeypatch.setenv("INVINDEX_CACHE", str(tmp_path / "cache"))
    plain = cli("search", index, 'quick OR "dog of the fox"', "--format", "tsv")
    first = cli("search", index, 'quick OR "dog of the fox"', "--format", "tsv", "--compact")
    again = cli("search", index, 'quick OR "dog of the fox"', "--format", "tsv", "--compact")
    assert plain.out and plain.out == first.out == again.out
    assert len(list((tmp_path / "cache" / "compact").iterdir())) == 1  # built once
