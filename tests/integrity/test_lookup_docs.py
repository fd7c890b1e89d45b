"""``lookup --docs a b``: each term's doc ids are labelled with the term."""

from __future__ import annotations


def test_several_terms_label_their_doc_ids(cli, built_index):
    one = cli("lookup", str(built_index), "--docs", "darkness")
    assert one.code == 0 and "\t" not in one.out  # one term: the doc ids alone
    r = cli("lookup", str(built_index), "--docs", "darkness", "Light")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert all(line.count("\t") == 1 for line in lines)
    assert [line.split("\t")[1] for line in lines if line.startswith("darkness\t")] \
        == one.out.splitlines()
    assert any(line.startswith("light\t") for line in lines)
    assert {line.split("\t")[0] for line in lines} == {"darkness", "light"}
