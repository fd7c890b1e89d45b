"""The streaming scripts as real processes: `cat | mapper | LC_ALL=C sort | reducer`."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.core.compression import BOM
from invindex.core.postings import MalformedIntermediateError, UnsortedInputError, reduce_term
from invindex.core.reduce_blocks import Reducer, _runs
from invindex.core.reduce_lines import reduce_lines
from invindex.core.stream_reducer import _decoded_batches
from invindex.core.streaming import line_blocks

from .conftest import SAMPLE, SCRIPTS
from .reference import reference_lines

MAPPER = [sys.executable, str(SCRIPTS / "mapper.py")]
REDUCER = [sys.executable, str(SCRIPTS / "reducer.py")]
C_ENV = dict(os.environ, LC_ALL="C")


def pipeline(data: bytes, mapper=MAPPER, reducer=REDUCER, sort_env=C_ENV, map_args=()):
    m = subprocess.run(list(mapper) + list(map_args), input=data, capture_output=True,
                       check=True)
    s = subprocess.run(["sort"], input=m.stdout, capture_output=True, env=sort_env,
                       check=True)
    r = subprocess.run(reducer, input=s.stdout, capture_output=True)
    return m, r


def test_sample_pipe_matches_reference():
    data = SAMPLE.read_bytes()
    m, r = pipeline(data)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == reference_lines(data)
    assert b"reporter:counter:invindex,documents,429" in m.stderr
    assert b"reporter:counter:invindex,terms," in r.stderr


def test_scripts_are_executable_as_written():
    """Exactly the README's pipe, through a shell."""
    cmd = f"cat {SAMPLE} | {SCRIPTS}/mapper.py | LC_ALL=C sort | {SCRIPTS}/reducer.py"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, check=True)
    assert out.stdout.decode().splitlines() == reference_lines(SAMPLE.read_bytes())


def test_gzip_on_stdin_is_recognised():
    data = SAMPLE.read_bytes()
    _, plain = pipeline(data)
    _, zipped = pipeline(gzip.compress(data))
    assert zipped.stdout == plain.stdout


def test_unsorted_reducer_input_stops_with_clear_message():
    m = subprocess.run(MAPPER, input=SAMPLE.read_bytes(), capture_output=True, check=True)
    r = subprocess.run(REDUCER, input=m.stdout, capture_output=True)  # not sorted at all
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "LC_ALL=C" in err and "Traceback" not in err


def test_locale_sort_is_rejected():
    """A locale-aware order (case-insensitive here) is caught by the reducer."""
    data = b"d1\tapple Banana cherry\n"
    m = subprocess.run(MAPPER, input=data, capture_output=True, check=True)
    lines = sorted(m.stdout.decode().splitlines(), key=str.lower)
    lines = ["Banana" + ln[6:] if ln.startswith("banana") else ln for ln in lines]
    r = subprocess.run(REDUCER, input=("\n".join(lines) + "\n").encode(), capture_output=True)
    assert r.returncode == 1 and b"LC_ALL=C" in r.stderr


def test_mapper_reports_bad_records_and_strict_fails():
    data = b"a\tx\nno tab\n\tempty\nb\t\xff\n"
    m = subprocess.run(MAPPER + ["--source", "in.tsv"], input=data, capture_output=True)
    assert m.returncode == 0
    err = m.stderr.decode()
    assert "in.tsv:2 (no tab" in err and "in.tsv:3 (empty doc_id)" in err
    assert "bad_records.no_tab,1" in err and "bad_records.undecodable,1" in err
    s = subprocess.run(MAPPER + ["--strict", "--source", "in.tsv"], input=data,
                       capture_output=True)
    assert s.returncode == 1
    assert s.stderr.decode().strip() == (
        "mapper.py: error: bad record at in.tsv:2 (no tab between doc_id and text): 'no tab'")


def test_mapper_takes_location_from_hadoop_env():
    env = dict(os.environ, mapreduce_map_input_file="hdfs:///in/x.tsv",
               mapreduce_map_input_start="0")
    m = subprocess.run(MAPPER, input=b"oops\n", capture_output=True, env=env)
    assert "hdfs:///in/x.tsv:1" in m.stderr.decode()


def test_empty_input():
    m, r = pipeline(b"")
    assert r.returncode == 0 and r.stdout == b""
    assert b"documents,0" in m.stderr and b"terms,0" in r.stderr


def test_analyzer_flags():
    data = b"d1\tThe runners were running\n"
    _, r = pipeline(data, map_args=["--stem", "--stopwords", "english"])
    assert [ln.split("\t")[0] for ln in r.stdout.decode().splitlines()] == [
        "!c66", "run", "runner", "were"]  # the document table's line first


def test_runs_on_python39(python39, tmp_path):
    """Cluster nodes (EMR) run python3.9 with nothing installed: the scripts the job
    ships (and the invindex.zip beside them, which carries snowballstemmer) must run."""
    from invindex.runners.package import write_streaming_files

    write_streaming_files(tmp_path)
    data = SAMPLE.read_bytes()
    _, r = pipeline(data, mapper=[python39, "-I", str(tmp_path / "mapper.py"), "--stem"],
                    reducer=[python39, "-I", str(tmp_path / "reducer.py")])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == reference_lines(data, stem=True)


def test_scripts_need_only_the_standard_library(tmp_path):
    """`python -S -I` (no site-packages, no user env) still runs them from the checkout;
    --stem there (no snowballstemmer) is one line saying what to install."""
    m = subprocess.run([sys.executable, "-S", "-I", str(SCRIPTS / "mapper.py")],
                       input=b"d\tRunning\n", capture_output=True, cwd=tmp_path)
    assert m.returncode == 0, m.stderr
    assert m.stdout == b"running\td\t1\t0\n!%03x\td\t1\t\n" % (zlib.crc32(b"d") & 0xfff)
    m = subprocess.run([sys.executable, "-S", "-I", str(SCRIPTS / "mapper.py"), "--stem"],
                       input=b"d\tRunning\n", capture_output=True, cwd=tmp_path)
    assert m.returncode == 1 and m.stdout == b""
    assert m.stderr.decode().strip().splitlines() == [
        "--stem needs the snowballstemmer package: `pip install snowballstemmer`, or run "
        "the mapper.py that `invindex hadoop-command` writes (its invindex.zip carries it)"]


@pytest.mark.slow
def test_reducer_memory_is_bounded_by_the_output_line():
    """One term with 400k postings: peak RSS grows by about one output line, not more."""
    n = 400_000
    inter = "".join(f"t\td{i:07d}\t1\t{i % 97}\n" for i in range(n)).encode()
    code = ("import resource,subprocess,sys;"
            "p=subprocess.run(sys.argv[1:],stdin=sys.stdin,stdout=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")

    def peak_kb(data: bytes) -> int:
        out = subprocess.run([sys.executable, "-c", code] + REDUCER, input=data,
                             capture_output=True, check=True)
        return int(out.stdout)

    baseline = peak_kb(b"t\td\t1\t0\n")
    peak = peak_kb(inter)
    line_kb = len(reference_line_len(n)) // 1024
    assert peak - baseline < 1.6 * line_kb, (peak, baseline, line_kb)


def reference_line_len(n: int) -> str:
    return ",".join(f'["d{i:07d}",1,[{i % 97}]]' for i in range(n))


@pytest.mark.parametrize("block", [1, 5, 64, 1 << 18])
def test_reducer_reads_blocks_as_lines(block):
    """Lines are decoded a block at a time: a line across blocks, longer than a block,
    or without a final newline, comes out whole; a bad line stops after the good ones."""
    data = "a\td1\t1\t0\nbé\td2\t2\t0,3\n" + "c" * 100 + "\td3\t1\t\nlast\td\t1\t5"
    lines = [ln for b in _decoded_batches(io.BytesIO(data.encode()), block) for ln in b]
    assert lines == data.split("\n")
    got = []
    with pytest.raises(MalformedIntermediateError, match="not UTF-8"):
        for batch in _decoded_batches(io.BytesIO(b"a\td\t1\t0\n\xff\td\t1\t0\n"), block):
            got.extend(batch)
    assert got == ["a\td\t1\t0"]


def test_reducer_edge_cases_match_the_per_term_path():
    """The flat reducer loop agrees with reduce_term on merges, escapes and bad lines."""
    vals = ["d1\t1\t10", "d1\t3\t0,9,100", 'q"\\\t1\t', "x\t2\t1,2"]
    assert list(reduce_lines("t\t" + v for v in vals)) == [reduce_term("t", vals)]
    for bad, exc in ((["t\td\t1\t0", "no tab"], MalformedIntermediateError),
                     (["t\td\t1"], MalformedIntermediateError),
                     (["t\td\tx\t0"], MalformedIntermediateError),
                     (["t\td2\t1\t0", "t\td1\t1\t0"], UnsortedInputError),
                     (["u\td\t1\t0", "t\td\t1\t0"], UnsortedInputError)):
        with pytest.raises(exc):
            list(reduce_lines(bad))
    if hasattr(sys, "get_int_max_str_digits"):  # a tf int() refuses, on either path
        huge = b"t\td\t" + b"1" * (sys.get_int_max_str_digits() + 1) + b"\t0\n"
        with pytest.raises(MalformedIntermediateError, match="bad term frequency"):
            Reducer().feed(huge)


def _reduced(feed) -> tuple:
    r = Reducer(batch=3)
    try:
        feed(r)
        r.finish()
    except (UnsortedInputError, MalformedIntermediateError) as e:
        return "".join(r.out), (type(e), str(e)), r.counts
    return "".join(r.out), None, r.counts


_TERMS = ["!0a", "#d", "a", "b", "bb", "é", "z"]
_DOCS = ["d1", "d2", "d10", "ид", "d1 "]
_TFS = ["1", "2", "0", "12"]
_POSITIONS = ["0", "1,5", "", "3", "2,4,9"]
_inter_lines = st.one_of(
    st.lists(st.tuples(st.sampled_from(_TERMS), st.sampled_from(_DOCS),
                       st.sampled_from(_TFS), st.sampled_from(_POSITIONS)), max_size=40),
    st.lists(st.one_of(
        st.tuples(st.sampled_from(_TERMS), st.sampled_from(_DOCS + ['q"', "b\\s", "c\x01"]),
                  st.sampled_from(_TFS + ["05", "x", "", "1\t2"]),
                  st.sampled_from(_POSITIONS)),
        st.sampled_from([("b", "d1", "1"), ("b",), ("a", "d2", "3", "1", "2")])), max_size=40),
).map(lambda rows: ["\t".join(row) for row in rows])


@settings(max_examples=300, deadline=None)
@given(_inter_lines, st.sampled_from([1, 9, 40, 200, 1 << 16]), st.booleans(),
       st.booleans())
def test_block_path_matches_line_path(lines, block, ordered, final_newline):
    """The reducer's block-at-a-time path (``Reducer.feed``) writes the same index text,
    counters and errors as its line-at-a-time path, whatever the blocks hold: repeated
    doc_ids, escapes, tf 0 or non-canonical, mixed positions, bad and unsorted lines."""
    if ordered:
        lines = sorted(set(lines), key=lambda ln: ln.encode())
    data = "".join(ln + "\n" for ln in lines).encode()
    if not final_newline and data:
        data = data[:-1]
    expected = _reduced(lambda r: r.feed_lines(data.decode().split("\n")[:len(lines)]))
    got = _reduced(lambda r: [r.feed(b) for b in line_blocks(io.BytesIO(data), block)])
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "bb", "c", "é"]), max_size=40), st.booleans())
def test_term_runs_by_bisection(terms, ordered):
    """The block path finds term runs by bisection (``reduce_blocks._runs``): the true
    run starts of sorted terms; for unsorted terms either None or runs whose terms are
    not strictly increasing, which the block path refuses (and the line path reports)."""
    if ordered:
        terms.sort()
    starts = _runs(terms)
    if terms == sorted(terms):
        assert starts == [i for i in range(len(terms)) if i == 0 or terms[i] != terms[i - 1]]
    elif starts is not None:
        heads = [terms[a] for a in starts]
        assert any(heads[i] >= heads[i + 1] for i in range(len(heads) - 1))


def test_mapper_blocks_match_the_line_path():
    """Records are parsed a 64 KB block at a time (``records.parse_block``), a block
    with any bad or unusual line line by line: the same lines, counters and bad-record
    notes (line numbers across blocks) as the line-at-a-time path, which a
    ``--max-record-bytes`` below the block size forces on every block; a record over
    that limit stops the mapper naming its line, however many blocks came before."""
    lines = [f"doc{i}\tword{i % 97} The cat {i} sat, the CAT ran; naïve 東京".encode()
             for i in range(6000)]
    lines[10] = b"no tab here"
    lines[2500] = b"\tempty id"
    lines[3100] = b"bad\x01id\ttext"
    lines[4200] = b"ok\tbad utf-8 \xff"
    lines[4300] = b"crlf\tline\r"
    lines[5000] = BOM + b"bom\tnot at the start"
    lines[5001] = b"d\x85\tC1 in an id is fine"
    data = BOM + b"\n".join(lines) + b"\n\nlast\tno newline"
    blocks = subprocess.run(MAPPER + ["--source", "in.tsv"], input=data,
                            capture_output=True, check=True)
    by_line = subprocess.run(MAPPER + ["--source", "in.tsv", "--max-record-bytes", "200"],
                             input=data, capture_output=True, check=True)
    assert sorted(blocks.stdout.split(b"\n")) == sorted(by_line.stdout.split(b"\n"))
    assert blocks.stderr == by_line.stderr
    assert b"in.tsv:2501 (empty doc_id)" in blocks.stderr
    assert b"bad_records.no_tab,2" in blocks.stderr
    lines[5500] = b"long\t" + b"w " * 100_000
    for limit in ("200", "150000"):
        r = subprocess.run(MAPPER + ["--source", "in.tsv", "--max-record-bytes", limit],
                           input=b"\n".join(lines), capture_output=True)
        assert r.returncode == 1
        assert r.stderr.decode().startswith(
            "mapper.py: error: record at in.tsv:5501 is longer than"), r.stderr
        assert b"doc5499\t" in r.stdout  # the records before it were mapped
