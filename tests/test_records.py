"""Record parsing: every bad-record kind is counted, located, and never a traceback."""

from __future__ import annotations

import pytest

from invindex.core.records import (
    BAD_DOC_ID,
    EMPTY_DOC_ID,
    NO_TAB,
    UNDECODABLE,
    BadRecordError,
    BadRecordLog,
    iter_records,
    parse_record,
)


@pytest.mark.parametrize("raw, expected", [
    (b"d1\thello world\n", ("d1", "hello world", None)),
    (b"d1\thello\r\n", ("d1", "hello", None)),
    (b"d1\ta\tb\tc\n", ("d1", "a\tb\tc", None)),  # split at the first tab only
    (b"d1\t\n", ("d1", "", None)),  # empty text is a document with no terms
    (b"caf\xc3\xa9\tx", ("caf\u00e9", "x", None)),
    (b"no tab here\n", (None, None, NO_TAB)),
    (b"\n", (None, None, NO_TAB)),  # a blank line is a bad record too, counted
    (b"\ttext\n", (None, None, EMPTY_DOC_ID)),
    (b"d\x01x\ttext\n", (None, None, BAD_DOC_ID)),
    (b"d1\tbad \xff byte\n", (None, None, UNDECODABLE)),
])
def test_parse_record(raw, expected):
    assert parse_record(raw) == expected


def test_iter_records_counts_and_locates_bad_records():
    lines = [b"a\tx\n", b"oops\n", b"\tnope\n", b"b\t\xfe\n", b"c\ty\n", b"d\x07\tz\n"]
    log = BadRecordLog(keep=2)
    good = list(iter_records(lines, "in.tsv", log))
    assert good == [("a", "x"), ("c", "y")]
    assert log.counts == {NO_TAB: 1, EMPTY_DOC_ID: 1, UNDECODABLE: 1, BAD_DOC_ID: 1}
    assert log.total == 4
    assert [(b.source, b.line_no, b.kind) for b in log.examples] == [
        ("in.tsv", 2, NO_TAB), ("in.tsv", 3, EMPTY_DOC_ID)]
    assert "in.tsv:2" in log.examples[0].describe()


def test_strict_raises_with_location():
    with pytest.raises(BadRecordError, match=r"in.tsv:2 \(no tab"):
        list(iter_records([b"a\tx\n", b"oops\n"], "in.tsv", strict=True))
