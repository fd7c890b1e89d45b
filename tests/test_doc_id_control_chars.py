"""Every C0 control character makes a doc_id a bad record; DEL and C1 do not.

The contract (README, "Details the design notes left open"): a doc_id with a C0
control character (U+0000..U+001F) is a ``control_char_in_doc_id`` bad record, since
a byte below TAB would sort a ``term<TAB>doc_id`` line differently from its key. TAB
itself cannot occur in an id (the record is split at the first one) and LF ends the
line, so the other 30 are checked here, at the start, middle and end of an id. DEL
(U+007F) and the C1 controls are not C0: such ids are good records, indexed as is (a
few of them are line breaks to ``str.splitlines``, which no reader may use).
"""

from __future__ import annotations

import json

import pytest

from invindex.core.analysis import Analyzer
from invindex.core.records import BAD_DOC_ID, BadRecordLog, iter_records, parse_record

from .conftest import read_index_lines
from .reference import reference_lines

C0_IN_IDS = [c for c in range(0x20) if chr(c) not in "\t\n"]
NOT_C0 = ["\x7f", "\x80", "\x85", "\x9f", "\u2028"]


def _ids(ch: str) -> list:
    return [f"{ch}d", f"d{ch}x", f"d{ch}"]


@pytest.mark.parametrize("code", C0_IN_IDS, ids=lambda c: f"U+{c:04X}")
def test_c0_control_character_in_doc_id_is_a_bad_record(code):
    for doc_id in _ids(chr(code)):
        raw = doc_id.encode() + b"\ttext\n"
        assert parse_record(raw) == (None, None, BAD_DOC_ID), doc_id
        log = BadRecordLog()
        assert list(iter_records([b"ok\tx\n", raw, b"ok2\ty\n"], "in.tsv", log)) == [
            ("ok", "x"), ("ok2", "y")]
        assert log.counts == {BAD_DOC_ID: 1}
        assert "in.tsv:2 (doc_id contains a control character)" in log.examples[0].describe()


@pytest.mark.parametrize("ch", NOT_C0, ids=lambda c: f"U+{ord(c):04X}")
def test_del_and_c1_in_doc_id_are_good_records(ch):
    for doc_id in _ids(ch):
        assert parse_record(doc_id.encode() + b"\ttext\r\n") == (doc_id, "text", None)


@pytest.mark.parametrize("runner", ["fast", "pipe"])
def test_runners_count_every_c0_id_and_index_the_rest(tmp_path, runner):
    """The fast engine and the streaming scripts, on one file holding all of them."""
    from invindex.build import build_index

    lines = []
    for code in C0_IN_IDS:
        lines += [d.encode() + b"\tbad words" for d in _ids(chr(code))]
    for ch in NOT_C0:
        lines += [d.encode() + b"\tgood words" for d in _ids(ch)]
    data = b"\n".join(lines) + b"\n"
    (tmp_path / "in.tsv").write_bytes(data)
    summary = build_index([str(tmp_path / "in.tsv")], str(tmp_path / "idx"), Analyzer(),
                          runner=runner)
    assert summary.manifest["counts"]["bad_records_by_kind"] == {BAD_DOC_ID: 3 * 30}
    assert summary.manifest["counts"]["documents"] == 3 * len(NOT_C0)
    got = read_index_lines(tmp_path / "idx")
    assert got == reference_lines(data)
    terms = [ln.split("\t", 1) for ln in got if ln[:1] not in "!#"]  # not the doc table
    assert [t for t, _ in terms] == ["good", "words"]
    assert {p[0] for p in json.loads(terms[0][1])["postings"]} == {
        d for ch in NOT_C0 for d in _ids(ch)}
