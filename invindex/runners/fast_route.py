"""Routing records by doc_id range, so that no two runs' pieces of a term overlap.

A batch's records are sorted by doc_id, but a file's order is not doc_id order, so the
runs of consecutive batches cover interleaved doc_id ranges, and the merge has to
interleave their postings (on the 153 MB real mix, 12 runs a partition: 13 s of CPU).
Instead, when the inputs are plain files: doc_ids sampled at even byte offsets give
range boundaries (about one batch of input per range, at most ``RANGE_BYTES``); each
split's records are routed to their range (a file per split, batch and range: a batch
of good records as its undecoded lines, others pickled); then each range is inverted
whole, its records from every split in file order (undecoded lines straight to the
arrow inverter), so the runs of different ranges are disjoint and a term's pieces are
only concatenated (``fast_merge_arrow``: all in C).
"""

from __future__ import annotations

import os
import pickle
from bisect import bisect_right
from collections import defaultdict
from pathlib import Path
from typing import IO, Callable, Dict, List, Tuple

from ..core.analysis import Analyzer
from ..inputs import compression_of
from .fast_map import Inverter, MapResult, read_split, timed
from .fast_plan import Split
from .fast_read import RawLines, split_records

SAMPLES_PER_RANGE = 64
# A range holds about this share of a batch, so that sampling's error rarely makes a
# range bigger than a batch (it is then inverted in several batches: still right).
RANGE_FILL = 0.8
MAX_RANGES = 256


def routable(paths: List[Path], batch_bytes: int) -> bool:
    """Plain files (a compressed one cannot be sampled cheaply) of more than one batch."""
    return (not any(compression_of(p) for p in paths)
            and sum(p.stat().st_size for p in paths) > batch_bytes)


# A range holds at most about this much input, however big a batch may be: a bigger
# range's token arrays outgrow what the allocator keeps between batches and are
# faulted in fresh (zeroed by the kernel) each time. 50 MB, -j 1: 6 ranges instead of
# 2 took 0.9x the CPU, as -j 2 has (medians of 3, alternating).
RANGE_BYTES = 12 << 20


def range_count(paths: List[Path], batch_bytes: int, jobs: int) -> int:
    """About a batch (at most ``RANGE_BYTES``) of input a range, a multiple of ``jobs``
    (every worker busy)."""
    total = sum(p.stat().st_size for p in paths)
    n = -(-total // int(min(batch_bytes, RANGE_BYTES) * RANGE_FILL))
    return min(MAX_RANGES, max(jobs, -(-n // jobs) * jobs))


def sample_ids(paths: List[Path], ranges: int) -> List[str]:
    """``SAMPLES_PER_RANGE * ranges`` doc_ids, in file order, of the lines found at
    evenly spaced byte offsets of ``paths``."""
    total = sum(p.stat().st_size for p in paths) or 1
    want = SAMPLES_PER_RANGE * ranges
    ids: List[str] = []
    for path in paths:
        size = path.stat().st_size
        n = max(1, want * size // total)
        with open(path, "rb") as f:
            at = 0  # a line start: where the last line read ended
            for k in range(n):
                offset = size * k // n
                if offset < at:  # inside the line just read (a long one): no new sample
                    continue
                f.seek(offset)
                if offset > at:  # mid-line: the rest of it, a bounded read at a time
                    _skip_line(f)
                line = f.readline(1 << 16)
                tab = line.find(b"\t")
                if tab > 0:
                    ids.append(line[:tab].decode("utf-8", "replace"))
                if line and not line.endswith(b"\n"):
                    _skip_line(f)
                at = f.tell()  # so each byte of a long record is read once, not per sample
    return ids


def _skip_line(f: IO[bytes]) -> None:
    while (rest := f.readline(1 << 16)) and not rest.endswith(b"\n"):
        pass


def sample_boundaries(ids: List[str], ranges: int) -> List[str]:
    """``ranges - 1`` doc_ids that cut the sampled ``ids`` into ranges of about equal
    bytes (the samples' quantiles); [] when the sample is in doc_id order already: the
    input then looks sorted, its batches' runs barely overlap, and routing would only
    cost a pass."""
    if ids == sorted(ids):
        return []
    ids = sorted(ids)
    return sorted({ids[len(ids) * r // ranges] for r in range(1, ranges)})


def route_split(split: Split, boundaries: List[str], workdir: str, strict: bool,
                batch_bytes: int, max_record: int = 0) -> MapResult:
    """Read a split (bad records counted as the map counts them) and write each batch's
    records to one file per doc_id range: ``runs`` holds, per batch, a path per range
    (None: no record there). A batch of good records only is routed as it was read
    (its lines, undecoded, to a ``.lines`` file: UTF-8 order is code point order, so
    the doc_ids compare as bytes); any other batch as records (a ``.pickle``)."""
    result = MapResult(pid=os.getpid())
    as_bytes = [b.encode() for b in boundaries]
    for n, batch in read_split(split, strict, [batch_bytes], max_record, result, raw=True):
        with timed(result.phases, "route"):
            prefix = os.path.join(workdir, f"route-{split.index:05d}-{n:05d}")
            if isinstance(batch, RawLines):
                paths = _route_stretches(batch.lines, batch.ids, as_bytes,
                                         prefix + "-{:05d}.lines")
            else:
                paths = _route(batch, [rec[0] for rec in batch], boundaries,
                               prefix + "-{:05d}.pickle", _pickled)
            del batch
        result.runs.append(paths)
    return result


def _pickled(records: List) -> bytes:
    return pickle.dumps(records, pickle.HIGHEST_PROTOCOL)


def _route(items: List, ids: List, boundaries: List, name: str,
           dump: Callable[[List], bytes]) -> List[str | None]:
    """Write each item to its id's range's file (``name`` formatted with the range),
    in order; a path per range, None where no item went."""
    by_range: Dict[int, List] = defaultdict(list)
    for item, doc_id in zip(items, ids, strict=True):
        by_range[bisect_right(boundaries, doc_id)].append(item)
    paths: List[str | None] = [None] * (len(boundaries) + 1)
    for r, mine in by_range.items():
        paths[r] = name.format(r)
        with open(paths[r], "wb") as f:
            f.write(dump(mine))
    return paths


# Lines are routed a stretch at a time: a chunk of lines whose least and greatest doc_id
# fall in one range goes there whole (a file is mostly long stretches of one range).
CHUNK = 64


def _route_stretches(lines: List[bytes], ids: List[bytes], boundaries: List[bytes],
                     name: str) -> List[str | None]:
    """``_route`` of undecoded lines, the same files, by stretches: for each chunk of
    ``CHUNK`` lines one bisection of its least and greatest id (C passes); only a
    chunk that straddles a boundary is routed line by line."""
    stretches: List[Tuple[int, int, int]] = []  # (range, first line, end), in order
    for a in range(0, len(ids), CHUNK):
        chunk = ids[a:a + CHUNK]
        r = bisect_right(boundaries, min(chunk))
        if r == bisect_right(boundaries, max(chunk)):
            stretches.append((r, a, a + len(chunk)))
        else:
            stretches.extend((bisect_right(boundaries, i), k, k + 1)
                             for k, i in enumerate(chunk, a))
    by_range: Dict[int, List[bytes]] = defaultdict(list)
    r0, a0, b0 = stretches[0] if stretches else (0, 0, 0)
    for r, a, b in stretches[1:]:
        if r == r0 and a == b0:
            b0 = b
            continue
        by_range[r0].extend(lines[a0:b0])
        r0, a0, b0 = r, a, b
    if stretches:
        by_range[r0].extend(lines[a0:b0])
    paths: List[str | None] = [None] * (len(boundaries) + 1)
    for r, mine in by_range.items():
        paths[r] = name.format(r)
        with open(paths[r], "wb") as f:
            f.write(b"\n".join(mine))
    return paths


def _load(path: str) -> bytes:
    """A routed file's bytes; the file is removed."""
    with open(path, "rb") as f:
        data = f.read()
    os.remove(path)
    return data


def _records(path: str, data: bytes) -> List:
    """The records of a routed file's bytes."""
    if path.endswith(".lines"):
        return split_records(data.decode("utf-8"))
    return pickle.loads(data)


def map_range(index: int, paths: List[str], analyzer: Analyzer, parts: int, workdir: str,
              batch_bytes: int, engine: str = "python", budget: int = 0) -> MapResult:
    """Invert one doc_id range: the records routed to it by every split (``paths``, in
    file order, so repeated doc_ids keep their order), sorted by doc_id, at once when
    they fit a batch (the usual case: a range is ``RANGE_FILL`` of one); a range that
    came out bigger is inverted a batch at a time (its runs then overlap, which the
    merge handles), so memory stays bounded whatever the sample said. A batch of
    undecoded lines only goes to the inverter as such (``Inverter.lines``)."""
    result = MapResult(pid=os.getpid())
    size = [batch_bytes]
    with timed(result.phases, "import"):
        inverter = Inverter(analyzer, parts, engine, budget, size, result)
    held: List[Tuple[str, bytes]] = []
    held_bytes = n = 0
    for path in paths:
        with timed(result.phases, "read"):
            data = _load(path)
        if held and held_bytes + len(data) > size[0]:
            _invert(inverter, held, _prefix(workdir, index, n))
            held, held_bytes, n = [], 0, n + 1
        held.append((path, data))
        held_bytes += len(data)
        del data
    if held:
        _invert(inverter, held, _prefix(workdir, index, n))
    return result


def _invert(inverter: Inverter, held: List[Tuple[str, bytes]], prefix: str) -> None:
    """Invert the routed files' bytes ``held`` (emptied here) as one batch."""
    if all(path.endswith(".lines") for path, _ in held):
        with timed(inverter.result.phases, "read"):
            lines = b"".join([b for _, data in held for b in (data, b"\n")])
            held.clear()
        if inverter.lines(lines, prefix):
            return
        with timed(inverter.result.phases, "read"):
            records = split_records(lines[:-1].decode("utf-8"))
            del lines
    else:
        with timed(inverter.result.phases, "read"):
            records = [rec for path, data in held for rec in _records(path, data)]
            held.clear()
    inverter(records, prefix)


def _prefix(workdir: str, index: int, n: int) -> str:
    return os.path.join(workdir, f"run-r{index:05d}-{n:05d}")
