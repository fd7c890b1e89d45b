"""``invindex info INDEX``: what an index holds and how it was made, without reading it."""

from __future__ import annotations

import json


def test_info_shows_counts_analyzer_parts_runner_inputs_created(cli, built_index):
    m = json.loads((built_index / "_manifest.json").read_text())
    r = cli("info", str(built_index))
    assert r.code == 0, r.err
    out = r.out
    assert f"{m['counts']['documents']:,}" in out and f"{m['counts']['terms']:,}" in out
    assert "runner" in out and "fast" in out
    assert "docs.tsv" in out and m["created"] in out
    assert "analyzer" in out and "positions" in out
    for name, entry in m["part_files"].items():
        assert name in out and f"{entry['bytes']:,}" in out and entry["crc32c"] in out
    assert "hadoop-keyfield" in out


def test_info_json(cli, built_index):
    r = cli("info", str(built_index), "--json")
    assert r.code == 0, r.err
    info = json.loads(r.out)
    assert info["counts"]["documents"] > 0 and len(info["parts"]) == 3
    assert all(p["bytes"] > 0 for p in info["parts"])


def test_info_on_a_non_index(cli, tmp_path):
    r = cli("info", str(tmp_path))
    assert r.code == 1 and "not an invindex index" in r.err
