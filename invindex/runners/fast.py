"""``--runner fast``: the job in one process pool, no subprocess shuffle (the default).

Map: the inputs are cut into chunks (plain files at line boundaries, like Hadoop's
input splits; compressed files whole). A worker analyzes a chunk into an in-memory
dict, and writes it out as sorted runs of intermediate lines, one per partition.
Reduce: per partition, the runs are merged in (term, doc_id) order and fed to the
core reducer, so the lines are exactly those of the streaming job.
"""

from __future__ import annotations

import heapq
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Dict, Iterator, List, Tuple

from ..core import indexfmt
from ..core.analysis import Analyzer
from ..core.postings import reduce_lines
from ..core.records import BadRecord, BadRecordError, BadRecordLog, iter_records
from ..errors import InvindexError
from ..inputs import COMPRESSED, open_input
from .base import BuildRequest, BuildResult

CHUNK_BYTES = 16 << 20


@dataclass(frozen=True)
class Chunk:
    index: int
    path: Path
    start: int
    end: int  # -1: to the end (compressed files)


def plan_chunks(paths: List[Path], chunk_bytes: int = CHUNK_BYTES) -> List[Chunk]:
    chunks: List[Chunk] = []
    for path in paths:
        size = path.stat().st_size
        if path.suffix in COMPRESSED or size <= chunk_bytes:
            chunks.append(Chunk(len(chunks), path, 0, -1))
            continue
        for start in range(0, size, chunk_bytes):
            chunks.append(Chunk(len(chunks), path, start, min(start + chunk_bytes, size)))
    return chunks


def _align(f: IO[bytes], start: int) -> int:
    """The offset of the first line starting at or after ``start`` (Hadoop's rule: a
    line belongs to the split it starts in)."""
    if start == 0:
        return 0
    f.seek(start - 1)
    return start - 1 + len(f.readline())


def _lines_until(f: IO[bytes], pos: int, end: int) -> Iterator[bytes]:
    f.seek(pos)
    while pos < end:
        line = f.readline()
        if not line:
            return
        pos += len(line)
        yield line


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


@dataclass
class MapResult:
    runs: List[str]  # one run file per partition
    docs: int
    tokens: int
    bad: Dict[str, int]
    notes: List[BadRecord]


def map_chunk(chunk: Chunk, analyzer: Analyzer, parts: int, workdir: str,
              strict: bool) -> MapResult:
    bad = BadRecordLog(keep=5)
    term_positions = analyzer.term_positions
    postings: Dict[str, List[Tuple[str, int, str]]] = {}
    docs = tokens = 0
    positions = analyzer.positions
    with open_input(chunk.path) as f:
        if chunk.end < 0:
            first, lines = 0, iter(f)
        else:
            first = _align(f, chunk.start)
            lines = _lines_until(f, first, chunk.end)
        records = iter_records(lines, str(chunk.path), bad, strict, chunk.start, first)
        for doc_id, text in records:
            docs += 1
            for term, ps in term_positions(text).items():
                tokens += len(ps)
                entry = (doc_id, len(ps), ",".join(map(str, ps)) if positions else "")
                lst = postings.get(term)
                if lst is None:
                    postings[term] = [entry]
                else:
                    lst.append(entry)
    by_part: List[List[str]] = [[] for _ in range(parts)]
    for term in postings:
        by_part[indexfmt.partition_of(term, parts)].append(term)
    runs = []
    for p, terms in enumerate(by_part):
        path = os.path.join(workdir, f"run-{chunk.index:05d}-{p:05d}")
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            for term in sorted(terms):
                for doc_id, tf, pos in sorted(postings[term]):
                    out.write(f"{term}\t{doc_id}\t{tf}\t{pos}\n")
        runs.append(path)
    return MapResult(runs, docs, tokens, dict(bad.counts), list(bad.examples))


def _run_lines(path: str):
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            yield line[:-1]


def reduce_partition(runs: List[str], out_path: str) -> Tuple[int, int]:
    terms = postings = 0
    merged = heapq.merge(*(_run_lines(r) for r in runs))
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        for line in reduce_lines(merged):
            out.write(line)
            out.write("\n")
            terms += 1
            start = line.index('{"df":') + 6
            postings += int(line[start:line.index(",", start)])
    return terms, postings


def run(req: BuildRequest) -> BuildResult:
    req.workdir.mkdir(parents=True, exist_ok=True)
    parts = max(1, int(req.options.get("parts") or req.jobs))
    chunks = plan_chunks(req.inputs, int(req.options.get("chunk_bytes") or CHUNK_BYTES))
    totals: Dict[str, int] = {"documents": 0, "tokens": 0}
    notes: List[BadRecord] = []
    runs_by_part: List[List[str]] = [[] for _ in range(parts)]
    with ProcessPoolExecutor(max_workers=max(1, req.jobs)) as pool:
        futures = [pool.submit(map_chunk, c, req.analyzer, parts, str(req.workdir), req.strict)
                   for c in chunks]
        try:
            for chunk, fut in zip(chunks, futures, strict=True):
                res = fut.result()
                totals["documents"] += res.docs
                totals["tokens"] += res.tokens
                for kind, n in res.bad.items():
                    key = "bad_records." + kind
                    totals[key] = totals.get(key, 0) + n
                notes.extend(resolve(b, chunk.path) for b in res.notes)
                for p, r in enumerate(res.runs):
                    runs_by_part[p].append(r)
                if req.on_progress:
                    size = chunk.path.stat().st_size if chunk.end < 0 else (
                        chunk.end - chunk.start)
                    req.on_progress(size)
        except BadRecordError as e:
            for f in futures:
                f.cancel()
            raise InvindexError(resolve(e.bad, Path(e.bad.source)).describe()) from None
        outs = [str(req.staging / indexfmt.part_name(p)) for p in range(parts)]
        for terms, postings in pool.map(reduce_partition, runs_by_part, outs):
            totals["terms"] = totals.get("terms", 0) + terms
            totals["postings"] = totals.get("postings", 0) + postings
    return BuildResult(
        totals,
        {"scheme": indexfmt.HADOOP_KEYFIELD, "num_parts": parts, "key_fields": "-k1,1"},
        [b.describe() for b in notes[:5]])
