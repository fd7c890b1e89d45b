"""The fast engine: splitting files like Hadoop input splits must not lose or double lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.build import build_index
from invindex.core.analysis import Analyzer

from .conftest import SAMPLE, read_index_lines
from .reference import reference_lines
from .strategies import corpora


@pytest.mark.slow  # 100 builds with a process pool each
@settings(max_examples=100, deadline=None)
@given(corpora, st.integers(min_value=1, max_value=64), st.integers(8, 256), st.integers(1, 3))
def test_any_split_and_batch_size_gives_the_reference_index(tmp_path_factory, data, split,
                                                            batch, parts):
    """Splits cut files at line boundaries; batches spill sorted runs that are merged.

    The Python inverter (a fifth of the arrow one's start-up per build) buys four times
    the examples: the two write the same runs (test_inverters), so the merge of
    overlapping pieces, which a few examples in 25 reach, is what the count is for."""
    d = tmp_path_factory.mktemp("c")
    (d / "in.tsv").write_bytes(data)
    build_index([str(d / "in.tsv")], str(d / "idx"), Analyzer(), runner="fast", jobs=2,
                split_bytes=split, batch_bytes=batch, parts=parts, engine="python")
    assert read_index_lines(d / "idx") == reference_lines(data)


@pytest.mark.parametrize("route", [True, False])
@settings(max_examples=15, deadline=None)
@given(corpora, st.integers(8, 256), st.integers(1, 3))
def test_arrow_runs_merge_to_the_reference_index(tmp_path_factory, route, data, batch,
                                                 parts):
    """The arrow engine's runs (Arrow IPC) and their merge: disjoint pieces joined,
    overlapping ones interleaved all at once or per term (tests/test_fast_merge.py has
    the named cases); with records routed to doc_id ranges first (fast_route: ranges
    from a sample of the doc_ids, repeated ids in file order) and without."""
    pytest.importorskip("pyarrow")
    from invindex.runners import fast

    fast.ROUTE = route  # not monkeypatch: hypothesis runs many examples per fixture
    d = tmp_path_factory.mktemp("c")
    (d / "in.tsv").write_bytes(data)
    try:
        build_index([str(d / "in.tsv")], str(d / "idx"), Analyzer(), runner="fast",
                    jobs=1, batch_bytes=batch, parts=parts, engine="arrow")
    finally:
        fast.ROUTE = True
    assert read_index_lines(d / "idx") == reference_lines(data)


def test_bad_record_in_a_split_is_located_by_file_line(tmp_path):
    good = b"a\tone two\n" * 100  # 1000 bytes
    data = good + b"no tab here\n" + good
    (tmp_path / "in.tsv").write_bytes(data)
    summary = build_index([str(tmp_path / "in.tsv")], str(tmp_path / "idx"), Analyzer(),
                          split_bytes=256)
    # the file's own line number, although the engine read it as a split from byte 768
    assert summary.notes == [f"bad record at {tmp_path / 'in.tsv'}:101 "
                             "(no tab between doc_id and text): 'no tab here'"]


def test_parts_follow_the_hadoop_partitioner(tmp_path):
    from invindex.core.indexfmt import partition_of

    build_index([str(SAMPLE)], str(tmp_path / "idx"), Analyzer(), parts=4)
    for i in range(4):
        for line in (tmp_path / "idx" / f"part-{i:05d}").read_text().splitlines():
            assert partition_of(line.split("\t")[0], 4) == i


def test_keyfield_hash_matches_java():
    """Values computed by Java's 31*h + (signed) byte loop, as KeyFieldBasedPartitioner."""
    from invindex.core.indexfmt import keyfield_hash

    def java(term: str) -> int:
        h = 0
        for b in term.encode():
            h = (31 * h + (b if b < 128 else b - 256)) & 0xFFFFFFFF
        return h

    assert keyfield_hash("a") == 97 and keyfield_hash("ab") == 97 * 31 + 98
    assert keyfield_hash("é") == java("é") == (31 * (0xC3 - 256) + (0xA9 - 256)) & 0xFFFFFFFF


def test_single_20mb_document(tmp_path):
    """One record of 20 MB: no line-length limit but the memory budget's (2 workers at
    --memory 1024 may take a record of 22 MB; tests/inputs/test_limits.py), exact tf and
    positions."""
    words = ["alpha", "beta", "gamma", "delta"]
    n = 20_000_000 // 6
    text = " ".join(words[i % 4] for i in range(n))
    (tmp_path / "big.tsv").write_text("big\t" + text + "\n")
    for runner in ("fast", "pipe"):
        out = tmp_path / runner
        build_index([str(tmp_path / "big.tsv")], str(out), Analyzer(), runner=runner,
                    jobs=2, memory_mb=1024)
        table, *lines = read_index_lines(out)
        assert table == f'!249\t{{"df":1,"postings":[["big",{n}]]}}'  # the document table
        assert [ln.split("\t")[0] for ln in lines] == sorted(words)
        alpha, count = lines[0], (n + 3) // 4
        assert alpha.startswith(f'alpha\t{{"df":1,"postings":[["big",{count},[0,4,8,')
        assert alpha.endswith(f",{(count - 1) * 4}]]]}}")


def _pieces(*docs_per_piece):
    """Run pieces as the map side writes them: encoded postings, doc_id order."""
    import json

    out = []
    for docs in docs_per_piece:
        encs = [json.dumps([d, 1, [i]], ensure_ascii=False, separators=(",", ":"))
                for i, d in enumerate(sorted(docs))]
        out.append((len(encs), ",".join(encs)))
    return out


def test_merge_of_overlapping_pieces_matches_the_reducer():
    """Interleaved ranges, ids with ' ' and '!' (they sort before a quote), escapes,
    and a doc_id repeated across runs (merged as the streaming reducer merges it)."""
    from invindex.core.postings import reduce_term
    from invindex.runners.fast_merge import _merge_pieces

    cases = [
        (["a", "c", "e"], ["b", "d"]),
        (["a", "a b", "a!"], ["a c", "a#"]),
        (['q"x', "q\\y"], ["q", "r"]),
        (["d1", "d3"], ["d1", "d2"]),
        (["z"], ["y"], ["x", "zz"]),
    ]
    for case in cases:
        pieces = _pieces(*case)
        values = []
        for docs in case:
            values += [f"{d}\t1\t{i}" for i, d in enumerate(sorted(docs))]
        values.sort(key=lambda v: v.split("\t")[0])
        df, encs = _merge_pieces(pieces)
        assert f't\t{{"df":{df},"postings":[{encs}]}}' == reduce_term("t", values), case


@pytest.mark.parametrize("seed", range(6))
def test_edge_merge_of_random_pieces_matches_the_reducer(seed, monkeypatch):
    """Pieces cut from random sorted ids (ranges that overlap at their edges, inside one
    another, or not at all; ids repeated across pieces; ' ', '!' and ',[' in ids): only
    the common range is merged, the rest copied, and the result is the reducer's (the
    edge merge is taken for pieces of any size here)."""
    import random

    from invindex.core.postings import reduce_term
    from invindex.runners import fast_merge
    from invindex.runners.fast_merge import _merge_pieces

    monkeypatch.setattr(fast_merge, "EDGE_MERGE_BYTES", 0)

    rng = random.Random(seed)
    alphabet = ["a", "b", "1", "10", "2", " ", "!", "#", ",["]
    for _ in range(200):
        case = []
        for _ in range(rng.randint(2, 4)):
            n = rng.randint(1, 8)
            case.append(sorted({"".join(rng.choices(alphabet, k=rng.randint(1, 3)))
                                for _ in range(n)}))
        values = []
        for docs in case:
            values += [f"{d}\t1\t{i}" for i, d in enumerate(docs)]
        values.sort(key=lambda v: v.split("\t")[0])
        df, encs = _merge_pieces(_pieces(*case))
        assert f't\t{{"df":{df},"postings":[{encs}]}}' == reduce_term("t", values), case


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(
    [b"a", b"\xc3\xa9", b"\t", b" ", b"\r", b"\x01", b"\x0c", b"\xff", b"\xef\xbb\xbf", b"!"]),
    max_size=6).map(b"".join), min_size=1, max_size=6), st.sampled_from([0, 7]))
def test_batch_read_at_once_is_read_as_line_by_line(lines, offset):
    """The fast path that decodes and splits a whole batch at once gives exactly the
    records ``iter_records`` gives, and only for batches without a bad record."""
    from invindex.core.records import BadRecordLog, iter_records
    from invindex.runners.fast_read import clean_records

    fast = clean_records(lines, offset)
    if fast is not None:
        bad = BadRecordLog()
        slow = [list(r) for r in iter_records(lines, "x", bad, False, 0, offset, 1)]
        assert fast == slow and not bad.counts


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(
    [b"a", b"\xc3\xa9", b"\t", b" ", b"\r", b"\x01", b"\xff", b"\xef\xbb\xbf", b"!"]),
    max_size=6).map(b"".join), min_size=1, max_size=6), st.sampled_from([0, 7]))
def test_routing_takes_undecoded_lines_only_where_the_map_would(lines, offset):
    """The routing's check (``clean_ids``, no decoding) passes exactly the batches that
    ``clean_records`` decodes at once, with the same doc_ids, and the lines it routes
    decode to the same records (``split_records``)."""
    from invindex.runners.fast_read import clean_ids, clean_records, split_records

    ids, records = clean_ids(lines, offset), clean_records(lines, offset)
    assert (ids is None) == (records is None)
    if ids is not None:
        assert ids == [r[0].encode() for r in records]
        assert split_records(b"\n".join(lines).decode()) == records


@pytest.mark.parametrize("engine", ["python", "arrow"])
@pytest.mark.parametrize("bounds", ["sampled", "none", "bad records"])
def test_routed_ranges_give_the_reference_index(tmp_path, monkeypatch, engine, bounds):
    """Records routed to doc_id ranges (fast_route): ids out of file order, repeated
    across splits (merged in file order), and a range far bigger than a batch (one
    range holds every record: inverted a batch at a time, its runs overlapping); a
    sorted input is not routed (its batches barely overlap). With bad records, their
    batches are routed as records, the others as undecoded lines, and each bad record
    is counted once."""
    if engine == "arrow":
        pytest.importorskip("pyarrow")
    from invindex.runners import fast_route

    if bounds == "none":
        # every id >= "d000": one range holds every record
        monkeypatch.setattr(fast_route, "sample_boundaries", lambda ids, ranges: ["d000"])
    lines = [f"d{(i * 7919) % 500:03d}\tw{i % 13} w{i % 5} shared x{i}\n" for i in range(1500)]
    if bounds == "bad records":  # no tab; an empty doc_id; a '\r' to drop (not bad)
        lines[100], lines[900], lines[1300] = "no tab\n", "\tempty id\n", "d001\tcr\r\n"
    data = "".join(lines).encode()
    (tmp_path / "in.tsv").write_bytes(data)
    summary = build_index([str(tmp_path / "in.tsv")], str(tmp_path / "idx"), Analyzer(),
                          jobs=2, split_bytes=len(data) // 5, batch_bytes=4096, parts=2,
                          engine=engine)
    assert read_index_lines(tmp_path / "idx") == reference_lines(data)
    assert summary.manifest["counts"]["bad_records"] == (2 if bounds == "bad records" else 0)


@pytest.mark.parametrize("jobs", [1, 2])
def test_routed_lines_inverted_undecoded_give_the_reference_index(tmp_path, jobs):
    """Routed ranges of good lines go to the arrow inverter undecoded
    (``invert_lines``): unique ids out of file order, ASCII and Latin-1 texts, and one
    range with a text beyond Latin-1 and one with an id repeated across splits (those
    two decoded into records as before)."""
    pytest.importorskip("pyarrow")
    lines = [f"d{(i * 7919) % 3000:04d}\tw{i % 13} W{i % 5} shared x{i}" for i in range(3000)]
    lines[10] += " caf\u00e9 na\u00efve"  # Latin-1
    lines[20] += " \u6771\u4eac"  # beyond Latin-1
    lines[2500] = lines[30].split("\t")[0] + "\trepeated id"
    data = "".join(line + "\n" for line in lines).encode()
    (tmp_path / "in.tsv").write_bytes(data)
    build_index([str(tmp_path / "in.tsv")], str(tmp_path / "idx"), Analyzer(), jobs=jobs,
                split_bytes=len(data) // 4, batch_bytes=len(data) // 6, parts=2,
                engine="arrow")
    assert read_index_lines(tmp_path / "idx") == reference_lines(data)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([b"a", b"b", b"c", b"c1", b"d", b"\xc3\xa9"]), max_size=40),
       st.lists(st.sampled_from([b"a", b"b", b"c", b"c0", b"d"]), max_size=3, unique=True),
       st.integers(1, 5))
def test_lines_routed_by_stretches_as_line_by_line(tmp_path_factory, ids, boundaries, chunk):
    """``_route_stretches`` (a chunk of lines whose least and greatest id share a range
    goes there whole) writes the same files as routing each line by itself."""
    from invindex.runners import fast_route

    boundaries = sorted(boundaries)
    lines = [i + b"\tline %d" % k for k, i in enumerate(ids)]
    d = tmp_path_factory.mktemp("r")
    want = fast_route._route(lines, ids, boundaries, str(d / "a-{}"), b"\n".join)
    old, fast_route.CHUNK = fast_route.CHUNK, chunk  # not monkeypatch: hypothesis
    try:
        got = fast_route._route_stretches(lines, ids, boundaries, str(d / "b-{}"))
    finally:
        fast_route.CHUNK = old
    assert [p and p.replace("/b-", "/a-") for p in got] == want
    for p in filter(None, got):
        with open(p, "rb") as f, open(p.replace("/b-", "/a-"), "rb") as g:
            assert f.read() == g.read()


def test_ranges_hold_at_most_range_bytes_whatever_the_batch(tmp_path):
    """A bigger batch (more --memory, fewer --jobs) does not make bigger ranges than
    ``RANGE_BYTES`` (their arrays would be faulted in fresh each time): -j 1 and -j 2
    invert ranges of the same size."""
    from invindex.runners.fast_route import RANGE_BYTES, RANGE_FILL, range_count

    path = tmp_path / "in.tsv"
    with open(path, "wb") as f:
        f.truncate(10 * RANGE_BYTES)
    least = -(-10 * RANGE_BYTES // int(RANGE_BYTES * RANGE_FILL))
    assert range_count([path], 64 << 20, 1) == least
    assert range_count([path], 64 << 20, 2) == -(-least // 2) * 2
    assert range_count([path], RANGE_BYTES // 2, 1) > least


def test_sorted_sample_means_no_routing_and_shuffled_means_ranges():
    from invindex.runners.fast_route import sample_boundaries

    assert sample_boundaries(["a", "b", "c", "d"], 2) == []
    assert sample_boundaries(["c", "a", "d", "b"], 2) == ["c"]


def test_sampling_reads_a_long_record_once(tmp_path):
    """Found by the CI's durations: a 20 MB record made refusing it take 20 s instead of
    3, because every sample offset that fell inside the record read on to its end (a
    sample per 1/n of the file: n times the record). Sampling must read each byte at
    most about once; bytes read counted by the kernel (/proc/self/io rchar)."""
    from invindex.runners.fast_route import sample_ids

    path = tmp_path / "long.tsv"
    with open(path, "wb") as f:
        f.write(b"a\tx\n" + b"b\t" + b"w " * (4 << 20) + b"\nc\ty\n")
    size = path.stat().st_size

    def rchar() -> int:
        with open("/proc/self/io") as io:
            return next(int(v) for k, v in (line.split(":") for line in io) if k == "rchar")

    before = rchar()
    ids = sample_ids([path], 8)
    read = rchar() - before
    assert ids[0] == "a" and set(ids) <= {"a", "b", "c"}
    assert read < 2 * size, f"read {read} bytes of a {size}-byte file"
