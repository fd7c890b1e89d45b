"""``--runner fast``: the job in one process pool, bounded memory (the default runner).

SPIMI (Manning et al., ch. 4) over a process pool:

- **split**: plain files are cut at line boundaries into splits (a line belongs to the
  split it starts in, as in Hadoop); a compressed file is one split.
- **route** (plain files): doc_ids sampled at even byte offsets cut the doc_id space
  into ranges of about a batch (at most ``fast_route.RANGE_BYTES``); a worker reads its
  split and writes each record to its range, then each range is inverted whole as one
  batch (``fast_route``), so that the runs of different ranges are disjoint; a range of
  good lines reaches the arrow inverter undecoded (``invert_arrow.invert_lines``: no
  Python record per line). Compressed inputs skip this: their batches are
  the file's. Routing needs only the standard library, so its pool is forked first and
  the main process imports numpy and pyarrow meanwhile; the inverting pool, forked
  after, inherits them.
- **map**: a worker reads its split (or range) in batches of ``batch_bytes``, sorts each batch's
  records by doc_id, and builds ``term -> encoded postings`` in memory, the postings
  already in their final JSON form and in doc_id order. When a batch is done the
  dictionary is written out as one sorted *run* per partition (``term<TAB>df<TAB>
  postings``: a text file from the python engine, an Arrow IPC file with each line's
  first and last doc_id from the arrow engine) and dropped, so a worker's memory is
  bounded by the batch size, however large the corpus (``fast_map``).
- **reduce**: per partition (in parallel), the runs are merged by term; a term's pieces
  are concatenated when their doc_id ranges are disjoint and merged posting by posting
  otherwise (interleaved or repeated doc ids), with the same rules as the streaming
  reducer (``fast_merge``; Arrow runs: ``fast_merge_arrow``, the disjoint terms all at
  once). Terms are partitioned as Hadoop's KeyFieldBasedPartitioner.

The output is byte-identical to the streaming job's (tests/test_parity.py).
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List

from ..core import counters, indexfmt
from ..core.records import BadRecord, BadRecordError, RecordTooLongError
from ..errors import InvindexError
from ..interrupt import stop_workers
from . import fast_merge, fast_route
from .base import BuildRequest, BuildResult
from .fast_map import MapResult, map_split, resolve_engine
from .fast_plan import (
    RECORD_MEMORY_PER_BYTE,
    Split,
    batch_bytes_for,
    max_record_bytes_for,
    memory_needed_mb,
    plan_splits,
    split_bytes_for,
    worker_budget_bytes,
)
from .fast_read import resolve

__all__ = ["RECORD_MEMORY_PER_BYTE", "reduce_partition", "run"]

log = logging.getLogger(__name__)
# Records routed to doc_id ranges before inverting, when the inputs allow (fast_route);
# tests of the merge of overlapping runs turn it off.
ROUTE = True
ARROW_SUFFIX = ".arrow"  # invert_arrow.ArrowRun.SUFFIX, without importing pyarrow here


def reduce_partition(runs: List[str], out_path: str, fan_in: int = 0) -> Dict[str, int]:
    """Merge one partition's runs into its part file: Arrow runs (the arrow engine's)
    with Arrow kernels, text runs (the python engine's) line by line."""
    if runs and runs[0].endswith(ARROW_SUFFIX):
        from .fast_merge_arrow import reduce_partition as reduce_arrow  # needs pyarrow

        return reduce_arrow(runs, out_path)
    return fast_merge.reduce_partition(runs, out_path, fan_in)


def preload(engine: str) -> None:
    """Import the arrow engine's modules (numpy, pyarrow) in this process, once, so that
    the workers it forks inherit them rather than import them each (~0.3 s of CPU and
    ~50 MB a worker)."""
    if engine == "arrow":
        importlib.import_module(".invert_arrow", __package__)
        importlib.import_module(".fast_merge_arrow", __package__)


def _add_phases(phases: Dict[str, List[float]], more: Dict[str, List[float]]) -> None:
    for name, (wall, cpu) in more.items():
        spent = phases.setdefault(name, [0.0, 0.0])
        spent[0], spent[1] = spent[0] + wall, spent[1] + cpu


def _collect(res: MapResult, split: Split, totals: Dict[str, int],
             phases: Dict[str, List[float]], notes: List[BadRecord],
             req: BuildRequest) -> MapResult:
    """Count a split's documents and bad records, report its progress."""
    totals["documents"] += res.docs
    for kind, n in res.bad.items():
        counters.add(totals, {counters.BAD_PREFIX + kind: n})
    notes.extend(resolve(b, split.path) for b in res.notes)
    if req.on_progress:
        req.on_progress(split.path.stat().st_size if split.end < 0 else
                        split.end - split.start)
    return res


@contextmanager
def _pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool that, on Ctrl-C, does not wait for the running batches, and on an
    error cancels the tasks not yet started (the running ones end first)."""
    pool = ProcessPoolExecutor(max_workers=jobs)
    try:
        yield pool
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        stop_workers()
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


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
    phases: Dict[str, List[float]] = {}
    budget = worker_budget_bytes(req.memory_mb, jobs)
    route = ROUTE and fast_route.routable(req.inputs, batch)
    if route:
        ranges = fast_route.range_count(req.inputs, batch, jobs)
        bounds = fast_route.sample_boundaries(fast_route.sample_ids(req.inputs, ranges),
                                              ranges)
        route = bool(bounds)
    try:
        if route:  # records to doc_id ranges first, then each range inverted
            with _pool(jobs) as pool:  # its workers need the standard library only
                futures = [pool.submit(fast_route.route_split, s, bounds, str(req.workdir),
                                       req.strict, batch, max_record) for s in splits]
                preload(engine)  # meanwhile: the inverting pool's workers inherit it
                routed: List[List[str]] = [[] for _ in range(len(bounds) + 1)]
                for split, fut in zip(splits, futures, strict=True):
                    res = _collect(fut.result(), split, totals, phases, notes, req)
                    _add_phases(phases, res.phases)
                    for batch_paths in res.runs:
                        for r, path in enumerate(batch_paths):
                            if path:
                                routed[r].append(path)
            # the biggest ranges first, so that no worker starts a big one last
            work = sorted(((r, paths) for r, paths in enumerate(routed) if paths),
                          key=lambda w: -sum(map(os.path.getsize, w[1])))
            with _pool(jobs) as pool:
                futures = [pool.submit(fast_route.map_range, r, paths, req.analyzer, parts,
                                       str(req.workdir), batch, engine, budget)
                           for r, paths in work]
                results = [f.result() for f in futures]
        else:
            preload(engine)
            with _pool(jobs) as pool:
                futures = [pool.submit(map_split, s, req.analyzer, parts, str(req.workdir),
                                       req.strict, batch, engine, budget, max_record)
                           for s in splits]
                results = [_collect(f.result(), s, totals, phases, notes, req)
                           for s, f in zip(splits, futures, strict=True)]
    except BadRecordError as e:
        raise InvindexError(resolve(e.bad, Path(e.bad.source)).describe()) from None
    except RecordTooLongError as e:
        raise InvindexError(str(e)) from None
    for res in results:
        totals["tokens"] += res.tokens
        _add_phases(phases, res.phases)
        for batch_runs in res.runs:
            for p, path in enumerate(batch_runs):
                runs_by_part[p].append(path)
    mapped = time.perf_counter()
    log.info("map: %d splits%s in %.2f s (%s inverter, batches of %d MB)", len(splits),
             f" routed to {ranges} doc_id ranges" if route else "", mapped - started,
             engine, batch >> 20)
    log.info("map phases (wall/CPU s, all workers): %s", ", ".join(
        f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in phases.items()))
    # The merge gets fresh processes: map workers keep memory their allocators hold on to.
    outs = [str(req.staging / indexfmt.part_name(p)) for p in range(parts)]
    with _pool(min(jobs, parts)) as pool:
        for counts in pool.map(reduce_partition, runs_by_part, outs):
            counters.add(totals, counts)
    log.info("reduce: %d parts in %.2f s", parts, time.perf_counter() - mapped)
    return BuildResult(
        totals,
        {"scheme": indexfmt.HADOOP_KEYFIELD, "num_parts": parts, "key_fields": "-k1,1"},
        [b.describe() for b in notes[:5]])
