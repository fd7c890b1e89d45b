"""The fast engine's map: a split inverted batch by batch into sorted runs."""

from __future__ import annotations

import importlib.util
import os
import resource
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from operator import itemgetter, lt
from typing import Dict, Iterator, List, Tuple

from ..core import indexfmt
from ..core.analysis import Analyzer
from ..core.compression import DECOMPRESS_ERRORS
from ..core.records import BadRecord, BadRecordLog, iter_records
from ..errors import InvindexError
from ..inputs import compression_of, decompress_failed, open_input
from .fast_plan import MIN_BATCH, Split
from .fast_python import invert_py
from .fast_read import RawLines, clean_ids, clean_records, read_batches


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


def _lines_inverter(engine: str):
    if engine == "arrow":
        from .invert_arrow import invert_lines

        return invert_lines
    return None


@dataclass
class MapResult:
    runs: List[List[str]] = field(default_factory=list)  # per batch: a run file per part
    docs: int = 0
    tokens: int = 0
    bad: Dict[str, int] = field(default_factory=dict)
    notes: List[BadRecord] = field(default_factory=list)
    # per phase (read, sort, invert, write): [wall s, CPU s], and the worker's pid, for
    # the profile (scripts/profile_fast.py) and the -v log
    phases: Dict[str, List[float]] = field(default_factory=dict)
    pid: int = 0


@contextmanager
def timed(phases: Dict[str, List[float]], name: str) -> Iterator[None]:
    """Add the block's wall and CPU time to ``phases[name]``."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        spent = phases.setdefault(name, [0.0, 0.0])
        spent[0] += time.perf_counter() - wall
        spent[1] += time.process_time() - cpu


def _peak_rss() -> int:
    """This process's peak resident memory so far, in bytes (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Inverter:
    """A worker's inversion of doc_id-sorted record batches into runs (one file per
    partition each), and its memory watch: a batch that pushes the peak past
    ``budget`` (bytes, 0: none; this worker's share of ``--memory``) makes the next
    ones smaller, whatever the estimate the batch size was based on got wrong."""

    def __init__(self, analyzer: Analyzer, parts: int, engine: str, budget: int,
                 size: List[int], result: MapResult) -> None:
        self.analyzer, self.parts, self.budget, self.size = analyzer, parts, budget, size
        self.invert = _inverter(engine)
        self.invert_lines = _lines_inverter(engine)
        self.result = result
        self.peak = _peak_rss()
        self.part_cache: Dict[str, int] = {}

    def part_of(self, term: str) -> int:
        p = self.part_cache.get(term)
        if p is None:
            p = self.part_cache[term] = indexfmt.partition_of(term, self.parts)
        return p

    def __call__(self, records: List, prefix: str) -> None:
        """Invert ``records`` (sorted here when they are not) into runs ``prefix-*``."""
        phases = self.result.phases
        with timed(phases, "sort"):
            unique = _increasing(records)
            if not unique:
                records.sort(key=itemgetter(0))  # stable: repeated ids keep file order
                unique = _increasing(records)
        with timed(phases, "invert"):
            run, tokens = self.invert(records, self.analyzer, unique)
            del records
        self._write(run, tokens, prefix)

    def lines(self, lines: bytes, prefix: str) -> bool:
        """Invert good records' undecoded lines (each ending with ``\n``, in any order)
        into runs ``prefix-*``, without decoding them into records, where the engine
        can (``invert_arrow.invert_lines``): False where it cannot."""
        if self.invert_lines is None:
            return False
        with timed(self.result.phases, "invert"):
            inverted = self.invert_lines(lines, self.analyzer)
        if inverted is None:
            return False
        self._write(*inverted, prefix)
        return True

    def _write(self, run, tokens: int, prefix: str) -> None:
        phases, result = self.result.phases, self.result
        result.tokens += tokens
        paths = [f"{prefix}-{p:05d}{run.SUFFIX}" for p in range(self.parts)]
        with timed(phases, "write"):
            run.write_parts(paths, self.part_of)
            del run
        result.runs.append(paths)
        if self.budget and _peak_rss() > self.peak:  # a new peak: is it too high?
            self.peak = _peak_rss()
            if self.peak > self.budget:
                self.size[0] = max(MIN_BATCH,
                                   int(self.size[0] * self.budget / self.peak * 0.9))


def map_split(split: Split, analyzer: Analyzer, parts: int, workdir: str, strict: bool,
              batch_bytes: int, engine: str = "python", budget: int = 0,
              max_record: int = 0) -> MapResult:
    """Invert one split in batches (``Inverter``); a record longer than ``max_record``
    (0: no limit) is refused."""
    result = MapResult(pid=os.getpid())
    size = [batch_bytes]
    with timed(result.phases, "import"):
        inverter = Inverter(analyzer, parts, engine, budget, size, result)
    for n, records in read_split(split, strict, size, max_record, result):
        inverter(records, os.path.join(workdir, f"run-{split.index:05d}-{n:05d}"))
    return result


def _increasing(records: List) -> bool:
    """Are the records' doc_ids strictly increasing (sorted, none repeated)?"""
    ids = list(map(itemgetter(0), records))
    return all(map(lt, ids, ids[1:]))


def read_split(split: Split, strict: bool, size: List[int], max_record: int,
               result: MapResult, raw: bool = False) -> Iterator[Tuple[int, List]]:
    """``(batch number, records)`` of a split, batches of about ``size[0]`` bytes; the
    documents and bad records are counted into ``result``. ``raw``: a batch of good
    records only comes as ``RawLines`` (undecoded lines and their doc_ids)."""
    bad = BadRecordLog(keep=5)
    try:
        with open_input(split.path) as f:
            batches = read_batches(f, split, size, max_record)
            for n in count():
                with timed(result.phases, "read"):
                    batch = next(batches, None)
                    if batch is None:
                        break
                    first, line, holder = batch
                    lines = holder.pop()
                    ids = clean_ids(lines, first) if raw else None
                    records = (RawLines(lines, ids) if ids is not None else
                               (None if raw else clean_records(lines, first))
                               or list(iter_records(lines, str(split.path), bad, strict,
                                                    split.start, first, line)))
                    del lines, batch
                result.docs += len(records)
                yield n, records
                del records
    except DECOMPRESS_ERRORS as e:  # an OSError with an errno is the disk's, not the data's
        if (split.end < 0 and compression_of(split.path)
                and getattr(e, "errno", None) is None):
            raise decompress_failed(split.path, e) from None
        raise
    result.bad = dict(bad.counts)
    result.notes = list(bad.examples)
