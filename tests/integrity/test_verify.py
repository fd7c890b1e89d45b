"""``invindex verify INDEX``: a clean index passes; each kind of damage is named."""

from __future__ import annotations

import json

import pytest

from .conftest import edit_manifest
from .test_damage import _part_with


def test_a_clean_index_passes(cli, index):
    r = cli("verify", str(index))
    assert r.code == 0, r.out + r.err
    assert "ok: 3 part(s)" in r.out and "checksums match" in r.out


@pytest.mark.parametrize("runner", ["pipe", "inline"])
def test_other_runners_and_options_pass(cli, tmp_path, runner):
    from ..conftest import SAMPLE

    out = tmp_path / "i"
    assert cli("build", str(SAMPLE), "-o", str(out), "--runner", runner, "--stem",
               "--store-text", "--stopwords", "english", "-q").code == 0
    r = cli("verify", str(out))
    assert r.code == 0, r.out


def _verify_fails(cli, index) -> str:
    r = cli("verify", str(index))
    assert r.code == 1, r.out
    assert "problem(s) found" in r.err and "Traceback" not in r.err
    return r.out


def test_swapped_lines(cli, index):
    part = _part_with(index, "light")
    lines = part.read_bytes().split(b"\n")[:-1]
    k = next(i for i, ln in enumerate(lines) if ln.startswith(b"light\t"))
    lines[k], lines[k + 1] = lines[k + 1], lines[k]
    part.write_bytes(b"\n".join(lines) + b"\n")
    # the size is unchanged, so lookup cannot see it: verify does
    out = _verify_fails(cli, index)
    assert "out of order" in out and "checksum" in out


def test_a_truncated_part(cli, index):
    part = _part_with(index, "light")
    part.write_bytes(part.read_bytes()[:-20])
    out = _verify_fails(cli, index)
    assert f"{part.name} is " in out and "cut off" in out


def test_part_files_swapped(cli, index):
    a, b = index / "part-00000", index / "part-00001"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    out = _verify_fails(cli, index)
    assert "belongs in part-00001" in out


def test_a_changed_byte_and_a_non_canonical_line(cli, index):
    part = _part_with(index, "darkness")
    data = part.read_bytes()
    data = data.replace(b'darkness\t{"df":', b'darkness\t{"df": ', 1)
    part.write_bytes(data)
    out = _verify_fails(cli, index)
    assert "not canonical JSON" in out and "checksum" in out


def test_a_term_in_two_parts_and_wrong_df(cli, index):
    part = index / "part-00002"
    line = _part_with(index, "light").read_text().split("light\t", 1)[1].split("\n")[0]
    obj = json.loads(line)
    obj["df"] += 1
    part.write_bytes(part.read_bytes() + b"zzzzzz\t" + json.dumps(
        obj, separators=(",", ":")).encode() + b"\n")
    out = _verify_fails(cli, index)
    assert "has df" in out


def test_counts_against_the_manifest(cli, index):
    m = json.loads((index / "_manifest.json").read_text())
    edit_manifest(index, counts={**m["counts"], "terms": m["counts"]["terms"] + 1})
    out = _verify_fails(cli, index)
    assert f"the manifest counts {m['counts']['terms'] + 1:,} terms" in out


def test_a_missing_part(cli, index):
    (index / "part-00001").unlink()
    assert "part-00001 is missing" in _verify_fails(cli, index)


def test_a_document_in_the_wrong_bucket(cli, index):
    for part in sorted(index.glob("part-*")):
        data = part.read_bytes()
        if data.startswith(b"!"):
            first = data.split(b"\n", 1)[0]
            key, payload = first.split(b"\t", 1)
            obj = json.loads(payload)
            obj["postings"][0][0] = "zz-not-here"
            obj["postings"].sort()
            new = key + b"\t" + json.dumps(obj, separators=(",", ":")).encode()
            part.write_bytes(new + data[len(first):])
            break
    assert "is in bucket" in _verify_fails(cli, index)


def test_an_old_index_is_checked_line_by_line(cli, index):
    edit_manifest(index, part_files=None, format_version=1)
    r = cli("verify", str(index))
    assert r.code == 0, r.out
    assert "no part sizes or checksums" in r.out


def test_a_bad_manifest_is_one_line(cli, index):
    edit_manifest(index, parts=["../x"])
    r = cli("verify", str(index))
    assert r.code == 1 and "not a part name" in r.err
