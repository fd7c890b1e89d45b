"""The fast engine's plan: input splits, and the batch sizes and record limit that keep
the process tree within ``--memory``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List

from ..inputs import compression_of

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

