"""The manifest is validated before anything is read: part names are plain names, the
fields a reader needs are there, the format version is one this invindex knows."""

from __future__ import annotations

import pytest

from .conftest import edit_manifest


def test_a_part_name_that_is_a_path_is_refused(cli, index, tmp_path):
    (tmp_path / "outside.txt").write_text("light\t{\"df\":1,\"postings\":[[\"secret\",1,[0]]]}\n")
    edit_manifest(index, parts=["../outside.txt"], partitioning={"scheme": "single"})
    r = cli("lookup", str(index), "light")
    assert r.code == 1, r
    assert "secret" not in r.out
    assert "'../outside.txt' is not a part name" in r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


@pytest.mark.parametrize("key", ["analyzer", "parts", "format", "counts"])
def test_a_missing_field_is_named(cli, index, key):
    edit_manifest(index, **{key: None})
    r = cli("lookup", str(index), "light")
    assert r.code == 1, r
    assert "_manifest.json" in r.err and (key in r.err or "not an invindex" in r.err)
    assert "KeyError" not in r.err and "Traceback" not in r.err


@pytest.mark.parametrize("version", [-5, 0, 1.9, "2", True, None])
def test_a_format_version_that_is_not_1_or_2_is_refused(cli, index, version):
    if version is None:
        edit_manifest(index, format_version=None)
    else:
        edit_manifest(index, format_version=version)
    r = cli("lookup", str(index), "light")
    assert r.code == 1, r
    assert "format_version" in r.err


def test_a_newer_format_version_says_upgrade(cli, index):
    edit_manifest(index, format_version=3)
    r = cli("lookup", str(index), "light")
    assert r.code == 1 and "upgrade invindex" in r.err


@pytest.mark.parametrize("version", [1, 2])
def test_versions_in_use_are_read(cli, index, version):
    edit_manifest(index, format_version=version)
    assert cli("lookup", str(index), "light").code == 0


def test_a_reordered_part_list_is_refused(cli, index):
    edit_manifest(index, parts=["part-00001", "part-00000", "part-00002"])
    r = cli("lookup", str(index), "light")
    assert r.code == 1 and "part-00001" in r.err and "order" in r.err, r


def test_a_duplicated_part_is_refused(cli, index):
    edit_manifest(index, parts=["part-00000", "part-00000", "part-00002"])
    r = cli("lookup", str(index), "light")
    assert r.code == 1 and "order" in r.err, r


@pytest.mark.parametrize("bad", [{"documents": -1}, {"terms": "many"}])
def test_counts_are_non_negative_integers(cli, index, bad):
    import json

    m = json.loads((index / "_manifest.json").read_text())
    edit_manifest(index, counts={**m["counts"], **bad})
    r = cli("lookup", str(index), "light")
    assert r.code == 1 and "counts" in r.err, r


def test_not_an_index_is_said_so(cli, tmp_path):
    d = tmp_path / "photos"
    d.mkdir()
    (d / "a.jpg").write_bytes(b"\xff\xd8")
    r = cli("lookup", str(d), "light")
    assert r.code == 1
    assert "is not an invindex index" in r.err and "did not finish" not in r.err


def test_an_unfinished_build_is_still_said_so(cli, index):
    (index / "_SUCCESS").unlink()
    r = cli("lookup", str(index), "light")
    assert r.code == 1 and "did not finish" in r.err
