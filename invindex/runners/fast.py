"""``--runner fast``: the job in one process pool, bounded memory (the default runner).

SPIMI (Manning et al., ch. 4) over a process pool:

- **split**: plain files are cut at line boundaries into splits (a line belongs to the
  split it starts in, as in Hadoop); a compressed file is one split.
- **map**: a worker reads its split in batches of ``batch_bytes``, sorts each batch's
  records by doc_id, and builds ``term -> encoded postings`` in memory, the postings
  already in their final JSON form and in doc_id order. When a batch is done the
  dictionary is written out as one sorted *run* per partition (``term<TAB>df<TAB>
  postings``) and dropped, so a worker's memory is bounded by the batch size, however
  large the corpus.
- **reduce**: per partition (in parallel), the runs are merged by term; a term's pieces
  are concatenated when their doc_id ranges are disjoint (the usual case) and merged
  posting by posting otherwise (interleaved or repeated doc ids), with the same rules
  as the streaming reducer. Terms are partitioned as Hadoop's KeyFieldBasedPartitioner.

The output is byte-identical to the streaming job's (tests/test_parity.py).
"""

from __future__ import annotations

import heapq
import importlib.util
import json
import logging
import os
import re
import resource
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from itertools import groupby
from json.decoder import scanstring
from json.encoder import encode_basestring
from operator import itemgetter, lt
from pathlib import Path
from typing import IO, Dict, Iterator, List, Tuple

from ..core import counters, indexfmt
from ..core.analysis import Analyzer
from ..core.compression import DECOMPRESS_ERRORS
from ..core.doctable import key_counters
from ..core.records import (
    BOM,
    BadRecord,
    BadRecordError,
    BadRecordLog,
    RecordTooLongError,
    iter_records,
)
from ..errors import InvindexError
from ..inputs import compression_of, decompress_failed, open_input
from ..interrupt import stop_workers
from .base import BuildRequest, BuildResult, Runner
from .fast_doctable import doc_run_lines

log = logging.getLogger(__name__)

# A worker's memory grows by about this many bytes per input byte of its batch, over
# an interpreter's ~100 MB (measured: arrow 18-20, python 16-18 on one 8-32 MB batch;
# set higher because allocators keep some memory between batches).
MEMORY_PER_INPUT_BYTE = {"arrow": 26, "python": 22}
PROCESS_BASE_MB = 100
# One huge record costs about this many bytes per byte to invert (measured on one 49 MB
# record: arrow 12, python 14, the streaming mapper 15): a longer record than the budget
# allows is refused rather than read (issue: 120 MB took 1.7 GB at --memory 512).
RECORD_MEMORY_PER_BYTE = 16
MIN_BATCH = 1 << 20
MAX_BATCH = 64 << 20
MIN_SPLIT = 8 << 20
MAX_SPLIT = 64 << 20
# A merge opens at most this many runs at once (more are merged in passes); under a low
# `ulimit -n`, half of what is left after FDS_KEPT (the interpreter's own, the pool's).
MAX_FAN_IN = 256
# A term's overlapping pieces are merged at their edges only from this many bytes on.
EDGE_MERGE_BYTES = 1 << 16
FDS_KEPT = 24


@dataclass(frozen=True)
class Split:
    index: int
    path: Path
    start: int
    end: int  # -1: the whole (compressed) file


def split_bytes_for(paths: List[Path], jobs: int) -> int:
    """About two splits per worker (all cores busy, progress moves), 8 to 64 MB: each
    batch costs a run per partition to merge, so splits should not be small."""
    total = sum(p.stat().st_size for p in paths)
    return max(MIN_SPLIT, min(MAX_SPLIT, total // (2 * max(1, jobs)) + 1))


def plan_splits(paths: List[Path], split_bytes: int = MAX_SPLIT) -> List[Split]:
    splits: List[Split] = []
    for path in paths:
        size = path.stat().st_size
        if size <= split_bytes or compression_of(path):
            splits.append(Split(len(splits), path, 0, -1))
            continue
        for start in range(0, size, split_bytes):
            splits.append(Split(len(splits), path, start, min(start + split_bytes, size)))
    return splits


def worker_budget_bytes(memory_mb: int, jobs: int) -> int:
    """Each worker's share of ``memory_mb`` after the main process's."""
    return int((memory_mb - PROCESS_BASE_MB) / max(1, jobs) * (1 << 20))


def batch_bytes_for(memory_mb: int, jobs: int, engine: str) -> int:
    """The batch size that should keep the whole process tree within ``memory_mb``: the
    main process and each worker's interpreter, plus each worker's batch."""
    per_worker = worker_budget_bytes(memory_mb, jobs) - (PROCESS_BASE_MB << 20)
    batch = int(per_worker / MEMORY_PER_INPUT_BYTE[engine])
    return max(MIN_BATCH, min(MAX_BATCH, batch))


def max_record_bytes_for(memory_mb: int, jobs: int) -> int:
    """The longest record a worker may invert within its share of ``memory_mb``."""
    per_worker = worker_budget_bytes(memory_mb, jobs) - (PROCESS_BASE_MB << 20)
    return max(MIN_BATCH, per_worker // RECORD_MEMORY_PER_BYTE)


def memory_needed_mb(jobs: int) -> int:
    """The least ``--memory`` the engine can keep to with ``jobs`` workers: every
    interpreter, and each worker's smallest batch."""
    per_batch = MIN_BATCH * max(MEMORY_PER_INPUT_BYTE.values()) >> 20
    return PROCESS_BASE_MB * (1 + jobs) + jobs * per_batch


# -- reading a split ---------------------------------------------------------------
def _align(f: IO[bytes], start: int) -> int:
    """Offset of the first line starting at or after ``start``."""
    if start == 0:
        return 0
    f.seek(start - 1)
    return start - 1 + len(f.readline())


Batch = Tuple[int, int, List[List[bytes]]]


def _batches(f: IO[bytes], split: Split, size: List[int],
             max_record: int = 0) -> Iterator[Batch]:
    """``(offset of first line, its line number in the split, [lines])`` batches of
    about ``size[0]`` bytes each.

    ``size`` is a one-item list so the caller can shrink batches as it goes; the lines
    come in a one-item list that the caller empties, so this generator holds no
    reference to a batch while it is being inverted. A line longer than
    ``max_record`` (0: no limit) raises ``RecordTooLongError`` and is not read whole.
    """
    pos = 0 if split.end < 0 else _align(f, split.start)
    if split.end >= 0:
        f.seek(pos)
    end = split.end if split.end >= 0 else None
    line = 1
    while end is None or pos < end:
        want = size[0] if end is None else min(size[0], end - pos)
        block = f.read(want)
        if not block:
            return
        if not block.endswith(b"\n"):  # finish the line that started in this batch
            block += f.readline(max_record + 1) if max_record else f.readline()
        start, pos = pos, pos + len(block)
        lines = block.split(b"\n")
        if not lines[-1]:
            lines.pop()  # the block ended with a newline
        if max_record and len(block) > max_record:
            _refuse_long(split, lines, start, line, max_record)
        del block
        first_line, line = line, line + len(lines)
        holder = [lines]
        del lines
        yield start, first_line, holder


def _refuse_long(split: Split, lines: List[bytes], start: int, line: int,
                 max_record: int) -> None:
    """Raise for the first of ``lines`` (the batch at byte ``start``, line ``line`` of
    the split) longer than ``max_record``, located by its line in the file."""
    offset = start
    for k, raw in enumerate(lines):
        if len(raw) > max_record:
            where = (f"{split.path}:{line + k}" if split.start == 0
                     else f"{split.path}:{line_number(split.path, offset)}")
            raise RecordTooLongError(where, max_record)
        offset += len(raw) + 1


def line_number(path: Path, offset: int) -> int:
    """1-based line number of the line at byte ``offset`` (only for error messages)."""
    n = 1
    with open(path, "rb") as f:
        while offset > 0:
            block = f.read(min(offset, 1 << 20))
            if not block:
                break
            n += block.count(b"\n")
            offset -= len(block)
    return n


def resolve(bad: BadRecord, path: Path) -> BadRecord:
    """A bad record found in a split, located by its line number in the whole file."""
    if bad.split_start and bad.offset is not None:
        return replace(bad, split_start=0, line_no=line_number(path, bad.offset))
    return bad


# -- map ---------------------------------------------------------------------------
# Control characters other than tab and newline: a batch that has one anywhere (in a
# doc_id it makes a bad record; '\r' may end a line) is read line by line.
_CONTROL_BYTES = bytes(c for c in range(32) if c not in b"\t\n")


def _clean_records(lines: List[bytes], offset: int) -> List[List[str]] | None:
    """A batch's ``[doc_id, text]`` records decoded and split at once (C passes, no
    Python call per line), when every line is a good record as it stands; None
    otherwise, and ``iter_records`` reads the batch line by line (bad records counted,
    '\r' dropped, a BOM at offset 0)."""
    if not lines or (offset == 0 and lines[0].startswith(BOM)):
        return None
    raw = b"\n".join(lines)
    if len(raw.translate(None, _CONTROL_BYTES)) != len(raw):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    del raw
    if text.startswith("\t") or "\n\t" in text:  # an empty doc_id
        return None
    records = [line.split("\t", 1) for line in text.split("\n")]
    return records if min(map(len, records)) == 2 else None  # else a line has no tab


def _merge_positions(dicts: List[Dict[str, List[int]]]) -> Dict[str, List[int]]:
    """Term positions of records sharing a doc_id: tf summed, positions merged."""
    out: Dict[str, List[int]] = {}
    for d in dicts:
        for term, ps in d.items():
            out.setdefault(term, []).extend(ps)
    return {t: sorted(ps) for t, ps in out.items()}


class PyRun(list):
    """A batch's run lines (term-sorted ``term<TAB>df<TAB>postings``) as a list."""

    def write_parts(self, paths: List[str], part_of) -> None:
        with ExitStack() as stack:
            files = [stack.enter_context(open(p, "w", encoding="utf-8", newline="\n"))
                     for p in paths]
            for line in self:
                f = files[part_of(line[:line.index("\t")])] if len(files) > 1 else files[0]
                f.write(line)
                f.write("\n")


def invert_py(records: List[Tuple[str, str]], analyzer: Analyzer,
              unique_ids: bool) -> Tuple[PyRun, int]:
    """Run lines for doc_id-sorted records, in pure Python (no numpy/pyarrow needed)."""
    term_positions = analyzer.term_positions
    with_positions = analyzer.positions
    postings: Dict[str, List[str]] = defaultdict(list)
    tokens = 0
    groups = [(d, [t]) for d, t in records] if unique_ids else [
        (d, [t for _, t in g]) for d, g in groupby(records, key=itemgetter(0))]
    lengths: List[int] = []
    for doc_id, texts in groups:
        tp = term_positions(texts[0]) if len(texts) == 1 else _merge_positions(
            [term_positions(t) for t in texts])
        head = "[" + encode_basestring(doc_id) + ","
        dl = 0
        for term, ps in tp.items():
            n = len(ps)
            dl += n
            if not with_positions:
                postings[term].append(f"{head}{n}]")
            elif n == 1 and ps[0] < len(_ONE):
                postings[term].append(head + _ONE[ps[0]])
            else:
                postings[term].append(f"{head}{n},[{','.join(map(str, ps))}]]")
        lengths.append(dl)
        tokens += dl
    _, doc_lines = doc_run_lines([d for d, _ in groups], lengths,
                                 [t for _, t in groups] if analyzer.store_text else None)
    return PyRun(doc_lines + [f"{t}\t{len(postings[t])}\t{','.join(postings[t])}"
                              for t in sorted(postings)]), tokens


_ONE = [f"1,[{i}]]" for i in range(4096)]  # the most common posting tail, premade


def resolve_engine(engine: str) -> str:
    """``arrow`` when numpy and pyarrow are installed (or demanded), else ``python``."""
    if engine in ("auto", "arrow"):
        # find_spec, not import: the main process stays small (workers import them)
        if all(importlib.util.find_spec(m) is not None for m in ("numpy", "pyarrow")):
            return "arrow"
        if engine == "arrow":
            raise InvindexError("--engine arrow needs numpy and pyarrow "
                                "(pip install 'invindex[fast]')")
    return "python"


def _inverter(engine: str):
    if engine == "arrow":
        from .invert_arrow import invert_arrow

        return invert_arrow
    return invert_py


@dataclass
class MapResult:
    runs: List[List[str]] = field(default_factory=list)  # per batch: a run file per part
    docs: int = 0
    tokens: int = 0
    bad: Dict[str, int] = field(default_factory=dict)
    notes: List[BadRecord] = field(default_factory=list)


def _peak_rss() -> int:
    """This process's peak resident memory so far, in bytes (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def map_split(split: Split, analyzer: Analyzer, parts: int, workdir: str, strict: bool,
              batch_bytes: int, engine: str = "python", budget: int = 0,
              max_record: int = 0) -> MapResult:
    """Invert one split in batches; ``budget`` (bytes, 0: none) is this worker's share
    of the memory budget: a batch that pushes the peak past it makes the next ones
    smaller, whatever the estimate ``batch_bytes`` was based on got wrong; a record
    longer than ``max_record`` (0: no limit) is refused."""
    invert = _inverter(engine)
    result = MapResult()
    bad = BadRecordLog(keep=5)
    size = [batch_bytes]
    try:
        _map_batches(split, analyzer, parts, workdir, strict, size, budget, invert, bad,
                     result, max_record)
    except DECOMPRESS_ERRORS as e:  # an OSError with an errno is the disk's, not the data's
        if (split.end < 0 and compression_of(split.path)
                and getattr(e, "errno", None) is None):
            raise decompress_failed(split.path, e) from None
        raise
    result.bad = dict(bad.counts)
    result.notes = list(bad.examples)
    return result


def _increasing(records: List) -> bool:
    """Are the records' doc_ids strictly increasing (sorted, none repeated)?"""
    ids = list(map(itemgetter(0), records))
    return all(map(lt, ids, ids[1:]))


def _map_batches(split: Split, analyzer: Analyzer, parts: int, workdir: str, strict: bool,
                 size: List[int], budget: int, invert, bad: BadRecordLog,
                 result: MapResult, max_record: int) -> None:
    part_cache: Dict[str, int] = {}

    def part_of(term: str) -> int:
        p = part_cache.get(term)
        if p is None:
            p = part_cache[term] = indexfmt.partition_of(term, parts)
        return p

    peak = _peak_rss()
    with open_input(split.path) as f:
        for n, (first, line, holder) in enumerate(_batches(f, split, size, max_record)):
            lines = holder.pop()
            records = _clean_records(lines, first) or list(iter_records(
                lines, str(split.path), bad, strict, split.start, first, line))
            del lines
            result.docs += len(records)
            unique = _increasing(records)
            if not unique:
                records.sort(key=itemgetter(0))  # stable: repeated ids keep file order
                unique = _increasing(records)
            run, tokens = invert(records, analyzer, unique)
            del records
            result.tokens += tokens
            prefix = os.path.join(workdir, f"run-{split.index:05d}-{n:05d}")
            paths = [f"{prefix}-{p:05d}" for p in range(parts)]
            run.write_parts(paths, part_of)
            del run
            result.runs.append(paths)
            if budget and _peak_rss() > peak:  # this batch set a new peak: is it too high?
                peak = _peak_rss()
                if peak > budget:
                    size[0] = max(MIN_BATCH, int(size[0] * budget / peak * 0.9))


# -- reduce ------------------------------------------------------------------------
def _run_lines(path: str) -> Iterator[Tuple[str, int, str]]:
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            term, df, encs = line[:-1].split("\t", 2)
            yield term, int(df), encs


def _first_doc(encs: str) -> str:
    return scanstring(encs, 2)[0]


def _last_doc(encs: str) -> str:
    # The last quote closes the last id (tf and positions hold none); the boundary before
    # it is the last ',["' that ends before it: an id ending in ',[' makes one with it.
    i = encs.rfind(',["', 0, encs.rfind('"'))
    return scanstring(encs, 2 if i < 0 else i + 3)[0]


def _frag_doc(frag: str) -> str:
    return frag[:frag.index('"')]


def _interleave(pieces: List[str]) -> Tuple[int, str] | None:
    """Merge pieces whose doc_id ranges overlap by sorting their postings as strings.

    A posting ``["doc",tf,[...]]`` is cut at ``,["`` (inside a JSON string a quote is
    escaped, so that only occurs between postings, or where an id ends in ',[' and its
    closing quote follows: ',[",' tells those apart). Without backslash escapes the raw
    id is the doc_id itself, and without ' ' or '!' (the only id characters that sort
    before the closing quote) whole fragments sort in doc_id order. Returns None when
    ids are escaped, repeated or end in ',[': the caller then merges exactly.
    """
    if any("\\" in e or ',[",' in e for e in pieces):
        return None
    frags: List[str] = []
    for e in pieces:
        frags.extend(e[2:].split(',["'))
    if any(" " in e or "!" in e for e in pieces):
        frags.sort(key=_frag_doc)
    else:
        frags.sort()
    out = '["' + ',["'.join(frags)
    docs = _DOC_IDS(out)  # sorted, so a repeated id would sit next to itself
    if len(set(docs)) != len(docs):
        return None
    return len(frags), out


_DOC_IDS = re.compile(r'\["([^"]*)",').findall


def _merge_exact(pieces: List[str]) -> Tuple[int, str]:
    """Posting by posting, with repeated doc_ids merged as the streaming reducer does."""
    merged: Dict[str, list] = {}
    for e in pieces:
        for posting in json.loads("[" + e + "]"):
            prev = merged.get(posting[0])
            if prev is None:
                merged[posting[0]] = posting
            else:
                prev[1] += posting[1]
                if len(posting) > 2:
                    prev[2] = sorted(prev[2] + posting[2])
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return len(merged), ",".join(dumps(merged[d]) for d in sorted(merged))


def _merge_pieces(pieces: List[Tuple[int, str]]) -> Tuple[int, str]:
    """One term's pieces from several runs, in doc_id order, as (df, postings)."""
    if len(pieces) == 1:
        return pieces[0]
    keyed = sorted(((_first_doc(e), _last_doc(e), df, e) for df, e in pieces))
    if all(keyed[i][1] < keyed[i + 1][0] for i in range(len(keyed) - 1)):
        return sum(k[2] for k in keyed), ",".join(k[3] for k in keyed)
    encs = [k[3] for k in keyed]
    # Edges only: each piece ends after the one before it and starts after the end of
    # the one before that. Otherwise (a piece spans others: its batch held the end of
    # one copy of a file and the start of the next), small pieces, or escaped ids (the
    # raw ids are not the doc_ids): one sort of all the postings.
    edges = all(keyed[k][1] < keyed[k + 1][1] for k in range(len(keyed) - 1)) and all(
        keyed[k][1] < keyed[k + 2][0] for k in range(len(keyed) - 2))
    if (not edges or sum(map(len, encs)) < EDGE_MERGE_BYTES
            or any("\\" in e or ',[",' in e for e in encs)):
        return _interleave(encs) or _merge_exact(encs)
    _, last, df, enc = keyed[0]
    for first_b, last_b, df_b, enc_b in keyed[1:]:
        if last < first_b:
            df, enc = df + df_b, enc + "," + enc_b
        else:
            i = _cut(enc, first_b, after=False)
            j = _cut(enc_b, last, after=True)
            df, enc = _merge_edge(df, enc, i, df_b, enc_b, j)
        last = last_b
    return df, enc


# Overlapping pieces usually overlap only at their edges: a batch's records are sorted
# by doc_id, but a file's order is not doc_id order, so two batches' ranges cross where
# one ends and the next starts. Only the postings in the common range are merged; the
# rest is copied. These helpers assume no backslash and no ',[",' in the pieces, so a
# posting starts at 0 or after each ',["' and its raw id is its doc_id.
def _cut(enc: str, doc: str, after: bool) -> int:
    """Start of the first posting whose doc_id is >= ``doc`` (> with ``after``), or
    ``len(enc)``: a binary search over the postings' starts (0 and after each ',["')."""
    def meets(s: int) -> bool:
        d = enc[s + 2:enc.index('"', s + 2)]
        return d > doc if after else d >= doc

    lo, hi = 0, len(enc)  # lo: a start, every earlier one fails; hi: meets, or the end
    while lo < hi:
        mid = (lo + hi) // 2
        k = enc.find(',["', mid, hi)  # a start in (mid, hi), else one in (lo, mid]
        if k < 0:
            k = enc.rfind(',["', lo, mid + 2)
        if k < 0:  # lo is the only start left
            return lo if meets(lo) else hi
        if meets(k + 1):
            hi = k + 1
        else:
            lo = enc.find(',["', k + 1, hi) + 1 or hi
    return lo


def _postings_in(enc: str, start: int) -> int:
    return 0 if start >= len(enc) else enc.count(',["', start) + 1


def _merge_edge(df_a: int, a: str, i: int, df_b: int, b: str, j: int) -> Tuple[int, str]:
    """Piece ``a`` with piece ``b`` that starts within ``a``'s range: ``a``'s postings
    before ``i`` (those before ``b``'s first), the common range merged, ``b``'s
    postings from ``j`` (those after ``a``'s last)."""
    mid = [a[i:], b[:j - 1] if j < len(b) else b]
    n_mid, enc_mid = _interleave(mid) or _merge_exact(mid)
    n_tail = _postings_in(b, j)
    out = [x for x in (a[:i - 1] if i else "", enc_mid, b[j:]) if x]
    return df_a - _postings_in(a, i) + n_mid + n_tail, ",".join(out)


def max_fan_in() -> int:
    """How many runs one merge opens at once: ``MAX_FAN_IN``, or fewer when this
    process's open-file limit (``ulimit -n``) leaves less room."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_FAN_IN
    return max(2, min(MAX_FAN_IN, (soft - FDS_KEPT) // 2))


def _merged_terms(runs: List[str]) -> Iterator[Tuple[str, int, str]]:
    """``(term, df, postings)`` over ``runs``, one per term, in term order."""
    merged = heapq.merge(*(_run_lines(r) for r in runs))
    for term, group in groupby(merged, key=itemgetter(0)):
        df, encs = _merge_pieces([(d, e) for _, d, e in group])
        yield term, df, encs


def merge_passes(runs: List[str], fan_in: int) -> List[str]:
    """Merge runs ``fan_in`` at a time into bigger runs (beside the first) until at
    most ``fan_in`` are left, so that no merge opens more files than it may."""
    passes = 0
    while len(runs) > fan_in:
        merged: List[str] = []
        for i in range(0, len(runs), fan_in):
            group = runs[i:i + fan_in]
            if len(group) == 1:
                merged.append(group[0])
                continue
            path = f"{group[0]}.p{passes}"
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                for term, df, encs in _merged_terms(group):
                    out.write(f"{term}\t{df}\t{encs}\n")
            for r in group:
                os.remove(r)  # the disk holds each pass once
            merged.append(path)
        runs, passes = merged, passes + 1
    return runs


def reduce_partition(runs: List[str], out_path: str, fan_in: int = 0) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    runs = merge_passes(runs, fan_in or max_fan_in())
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        write = out.write
        for term, df, encs in _merged_terms(runs):
            write(f'{term}\t{{"df":{df},"postings":[')
            write(encs)  # written apart: a frequent term's postings can be many MB
            write("]}\n")
            key_counters(term, df, counts)
    return counts


# -- driver ------------------------------------------------------------------------
def run(req: BuildRequest) -> BuildResult:
    started = time.perf_counter()
    req.workdir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, req.jobs)
    parts = max(1, req.parts or jobs)
    engine = resolve_engine(req.engine or "auto")
    batch = req.batch_bytes or batch_bytes_for(req.memory_mb, jobs, engine)
    max_record = req.max_record_bytes or max_record_bytes_for(req.memory_mb, jobs)
    if req.memory_mb < memory_needed_mb(jobs):
        log.warning("--memory %d is below what the fast runner needs with %d worker(s), "
                    "about %d MB: it will use more (or give fewer --jobs)", req.memory_mb,
                    jobs, memory_needed_mb(jobs))
    splits = plan_splits(req.inputs, req.split_bytes or split_bytes_for(req.inputs, jobs))
    totals: Dict[str, int] = {"documents": 0, "tokens": 0, "terms": 0, "postings": 0}
    notes: List[BadRecord] = []
    runs_by_part: List[List[str]] = [[] for _ in range(parts)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        budget = worker_budget_bytes(req.memory_mb, jobs)
        futures = [pool.submit(map_split, s, req.analyzer, parts, str(req.workdir),
                               req.strict, batch, engine, budget, max_record)
                   for s in splits]
        try:
            for split, fut in zip(splits, futures, strict=True):
                res = fut.result()
                totals["documents"] += res.docs
                totals["tokens"] += res.tokens
                for kind, n in res.bad.items():
                    counters.add(totals, {counters.BAD_PREFIX + kind: n})
                notes.extend(resolve(b, split.path) for b in res.notes)
                for batch_runs in res.runs:
                    for p, path in enumerate(batch_runs):
                        runs_by_part[p].append(path)
                if req.on_progress:
                    size = split.path.stat().st_size if split.end < 0 else (
                        split.end - split.start)
                    req.on_progress(size)
        except BadRecordError as e:
            for f in futures:
                f.cancel()
            raise InvindexError(resolve(e.bad, Path(e.bad.source)).describe()) from None
        except RecordTooLongError as e:
            for f in futures:
                f.cancel()
            raise InvindexError(str(e)) from None
        except KeyboardInterrupt:  # do not wait for the running batches
            pool.shutdown(wait=False, cancel_futures=True)
            stop_workers()
            raise
        mapped = time.perf_counter()
        log.info("map: %d splits in %.2f s (%s inverter, batches of %d MB)", len(splits),
                 mapped - started, engine, batch >> 20)
    # The merge gets fresh processes: map workers keep memory their allocators hold on to.
    outs = [str(req.staging / indexfmt.part_name(p)) for p in range(parts)]
    with ProcessPoolExecutor(max_workers=min(jobs, parts)) as pool:
        for counts in pool.map(reduce_partition, runs_by_part, outs):
            counters.add(totals, counts)
    log.info("reduce: %d parts in %.2f s", parts, time.perf_counter() - mapped)
    return BuildResult(
        totals,
        {"scheme": indexfmt.HADOOP_KEYFIELD, "num_parts": parts, "key_fields": "-k1,1"},
        [b.describe() for b in notes[:5]])


RUNNER = Runner("fast", "one process pool on this machine, no external tools (default)", run,
                takes=frozenset({"memory", "parts", "engine"}))
