"""One job, many runners, one answer: every runner writes the same index lines.

The raw `cat | mapper | LC_ALL=C sort | reducer` pipe, `--runner fast|pipe|inline|local`
and the brute-force reference must agree line for line, and on the counts in the
manifest, on real text with non-ASCII, bad records, gzip and bzip2 inputs, and odd
inputs: gzip content named `.tsv`, plain text named `.gz`, byte-order marks starting
files, a FIFO in the input directory (skipped) and a file also named a second time
(read once).
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
import shutil
import subprocess

import pytest

from .conftest import SAMPLE, SCRIPTS, read_index_lines
from .reference import reference_lines

BAD = b"oops no tab\n\tempty id\nd\x02x\tcontrol\nbroken\t\xff\xfe utf8\n"
BOM = b"\xef\xbb\xbf"
RUNNERS = ["fast", "fast-python", "pipe", "inline", "local"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    data = SAMPLE.read_bytes()
    lines = data.splitlines(keepends=True)
    (root / "a.tsv").write_bytes(BOM + b"".join(lines[:150]) + BAD)
    sub = root / "sub"
    sub.mkdir()
    (sub / "b.tsv.gz").write_bytes(gzip.compress(b"".join(lines[150:300])))
    (sub / "c.tsv.bz2").write_bytes(bz2.compress(b"".join(lines[300:380])))
    (sub / "d.tsv").write_bytes(gzip.compress(b"".join(lines[380:420])))  # gzip, named .tsv
    (sub / "e.tsv.gz").write_bytes(BOM + b"".join(lines[420:]))  # plain, named .gz
    (sub / "_SUCCESS").write_bytes(b"")  # skipped inside directories, as Hadoop does
    (sub / ".hidden.tsv").write_bytes(b"hidden\tnever indexed\n")
    os.mkfifo(sub / "fifo.tsv")  # skipped with a warning: reading it would block
    all_bytes = b"".join(lines[:150]) + BAD + b"".join(lines[150:])
    return root, all_bytes


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory):
    root, _ = corpus
    from invindex.build import build_index
    from invindex.core.analysis import Analyzer

    out = tmp_path_factory.mktemp("indexes")
    manifests = {}
    for runner in RUNNERS:
        engine = "python" if runner == "fast-python" else "auto"  # fast without pyarrow
        summary = build_index([str(root), str(root / "sub" / ".." / "a.tsv")],
                              str(out / runner), Analyzer(),
                              runner=runner.split("-")[0], engine=engine)
        manifests[runner] = summary.manifest
    return out, manifests


def test_reference_and_raw_pipe_agree(corpus):
    root, all_bytes = corpus
    cmd = (f"(cat {root}/a.tsv; zcat {root}/sub/b.tsv.gz; bzcat {root}/sub/c.tsv.bz2; "
           f"zcat {root}/sub/d.tsv; tail -c +4 {root}/sub/e.tsv.gz)"
           f" | {SCRIPTS}/mapper.py | LC_ALL=C sort | {SCRIPTS}/reducer.py")
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, check=True)
    assert out.stdout.decode().splitlines() == reference_lines(all_bytes)


@pytest.mark.parametrize("runner", RUNNERS)
def test_runner_matches_reference(built, corpus, runner):
    out, _ = built
    assert read_index_lines(out / runner) == reference_lines(corpus[1])


def test_counts_agree_across_runners(built):
    _, manifests = built
    counts = {r: m["counts"] for r, m in manifests.items()}
    assert counts["fast"]["documents"] == 429
    assert counts["fast"]["bad_records_by_kind"] == {
        "control_char_in_doc_id": 1, "empty_doc_id": 1, "no_tab": 1, "undecodable": 1}
    for runner in RUNNERS:
        assert counts[runner] == counts["fast"], runner


def test_manifest_and_success(built):
    out, manifests = built
    for runner in RUNNERS:
        d = out / runner
        assert (d / "_SUCCESS").exists()
        m = json.loads((d / "_manifest.json").read_text())
        assert m["runner"] == runner.split("-")[0] and m["format_version"] == 2
        assert sorted(p.name for p in d.glob("part-*")) == m["parts"]
        assert all(".hidden" not in i and "_SUCCESS" not in i for i in m["inputs"])
        assert [os.path.basename(i) for i in m["inputs"]] == [
            "a.tsv", "b.tsv.gz", "c.tsv.bz2", "d.tsv", "e.tsv.gz"]


def test_each_part_is_sorted_and_terms_unique(built):
    out, _ = built
    for runner in RUNNERS:
        seen = set()
        for part in sorted((out / runner).glob("part-*")):
            terms = [ln.split("\t", 1)[0].encode() for ln in part.read_text().splitlines()]
            assert terms == sorted(terms), (runner, part.name)
            assert not seen & set(terms)
            seen |= set(terms)


@pytest.mark.skipif(shutil.which("zcat") is None, reason="needs zcat")
def test_options_parity(corpus, tmp_path):
    """Analyzer options give the same index on the pipe and fast runners as the reference."""
    from invindex.build import build_index
    from invindex.core.analysis import ENGLISH_STOPWORDS, Analyzer

    a = Analyzer.from_options("english", True, 2, 12, False)
    root, all_bytes = corpus
    expected = reference_lines(all_bytes, set(ENGLISH_STOPWORDS), True, 2, 12, False)
    for runner in ("fast", "pipe", "inline"):
        build_index([str(root)], str(tmp_path / runner), a, runner=runner)
        assert read_index_lines(tmp_path / runner) == expected, runner
