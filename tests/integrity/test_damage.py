"""A damaged index is refused with one clear line instead of being answered from: the
cases found by trying it (each printed damage or "not in index" with exit 0 before)."""

from __future__ import annotations

import json

from .conftest import edit_manifest


def _part_with(index, term: str):
    for part in sorted(index.glob("part-*")):
        if any(line.startswith(term + "\t") for line in part.read_text().splitlines()):
            return part
    raise AssertionError(term)


def _one_error(r) -> str:
    assert r.code == 1, r
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1, r.err
    return r.err


def test_the_manifest_records_each_parts_size_and_checksum(index):
    m = json.loads((index / "_manifest.json").read_text())
    assert sorted(m["part_files"]) == m["parts"]
    for name, entry in m["part_files"].items():
        assert entry["bytes"] == (index / name).stat().st_size
        assert len(entry["crc32c"]) == 8


def test_a_part_truncated_mid_line_is_refused(cli, index):
    part = _part_with(index, "light")
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2 + 7])
    r = cli("lookup", str(index), "light")
    err = _one_error(r)
    assert r.out == ""
    assert "damaged" in err and part.name in err and "invindex verify" in err


def test_a_corrupted_line_is_refused_by_lookup_and_docs(cli, index):
    part = _part_with(index, "darkness")
    data = part.read_bytes()
    at = data.index(b"darkness\t") + len("darkness\t") + 3
    part.write_bytes(data[:at] + b"#" + data[at + 1:])  # same size: only the line shows it
    for args in (["darkness"], ["--docs", "darkness"]):
        r = cli("lookup", str(index), *args)
        err = _one_error(r)
        assert "damaged" in err and "darkness" in err and "JSONDecodeError" not in err
        assert r.out == ""


def test_a_damaged_line_is_refused_by_search(cli, index):
    """Same-size damage that is still valid JSON: search (which parses a term's line
    at numpy speed) refuses it as the reader's line check does."""
    part = _part_with(index, "darkness")
    original = part.read_bytes()
    head = original.index(b"darkness\t")
    end = original.index(b"\n", head)
    for old, new in [(b"[5,8]", b"[8,5]"), (b'"df":6', b'"df":7'),
                     (b'John.1.5",2,', b'John.1.5",3,'), (b"[5,8]", b"[5,08")]:
        line = original[head:end].replace(old, new, 1)
        part.write_bytes(original[:head] + line + original[end:])
        assert part.read_bytes() != original and len(part.read_bytes()) == len(original)
        r = cli("search", str(index), "darkness")
        err = _one_error(r)
        assert "damaged" in err and "darkness" in err and r.out == "", (new, err)


def test_a_grown_part_is_refused(cli, index):
    part = _part_with(index, "light")
    with open(part, "ab") as f:
        f.write(b"zzzz\t{\"df\":1,\"postings\":[[\"x\",1,[0]]]}\n")
    err = _one_error(cli("lookup", str(index), "light"))
    assert "bytes where the manifest records" in err


def test_an_index_from_before_part_files_is_still_read(cli, index):
    edit_manifest(index, part_files=None)
    assert cli("lookup", str(index), "light").code == 0


def test_a_missing_part_is_one_line(cli, index):
    part = _part_with(index, "light")
    part.unlink()
    err = _one_error(cli("lookup", str(index), "light"))
    assert f"{part.name} is missing" in err and "FileNotFoundError" not in err
    err = _one_error(cli("search", str(index), "light"))
    assert f"{part.name} is missing" in err
