"""A bad record is located by its line in the file on every runner, whatever batches or
splits the fast engine cut the file into, in plain and gzip files alike."""

from __future__ import annotations

import gzip

import pytest

from invindex.build import build_index
from invindex.core.analysis import Analyzer
from invindex.errors import InvindexError

BAD_AT = (2_000, 7_777)  # 1-based line numbers of the two bad records


def _corpus(n: int = 10_000) -> bytes:
    lines = [b"BADLINE no tab\n" if i in BAD_AT else b"d%06d\tsome words %d\n" % (i, i)
             for i in range(1, n + 1)]
    return b"".join(lines)


# small batches and splits, so that bad lines sit deep in later batches and splits
SMALL = {"batch_bytes": 4096, "split_bytes": 60_000}


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_bad_record_notes_give_the_file_line(tmp_path, runner, gz):
    path = tmp_path / ("docs.tsv.gz" if gz else "docs.tsv")
    path.write_bytes(gzip.compress(_corpus()) if gz else _corpus())
    summary = build_index([str(path)], str(tmp_path / "idx"), Analyzer(), runner=runner,
                          jobs=2, **(SMALL if runner == "fast" else {}))
    assert summary.manifest["counts"]["bad_records"] == 2
    where = sorted(note.split(" (")[0] for note in summary.notes)
    assert where == [f"bad record at {path}:{n}" for n in BAD_AT]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_strict_stops_at_the_file_line(tmp_path, runner, gz):
    path = tmp_path / ("docs.tsv.gz" if gz else "docs.tsv")
    path.write_bytes(gzip.compress(_corpus()) if gz else _corpus())
    with pytest.raises(InvindexError) as e:
        build_index([str(path)], str(tmp_path / "idx"), Analyzer(), runner=runner, jobs=1,
                    strict=True, **(SMALL if runner == "fast" else {}))
    assert str(e.value).startswith(f"bad record at {path}:{BAD_AT[0]} ")
