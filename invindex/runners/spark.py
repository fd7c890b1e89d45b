"""``--runner spark``: mrjob's Spark runner on ``local[N]`` or a ``spark://`` master.

Spark's parts are cut by its own partitioner; ``repartition`` re-cuts them as Hadoop's
KeyFieldBasedPartitioner would, so the index equals every other runner's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

from ..core import indexfmt
from ..core.records import location
from . import cluster
from .base import BuildRequest, BuildResult
from .fast_read import line_number
from .mrjob_runner import check_cluster_options, job_args, run_job
from .repartition import repartition

MAX_NOTES = 5  # as many as the other runners report

# A note of a record in a split Spark cut inside a file (``spark_harness.py``).
_IN_SPLIT = re.compile(r"bad record at (.+?) \(split at byte (\d+)\) line (\d+) (\(.*)", re.S)
_AT_LINE = re.compile(r"bad record at (.+?):(\d+) \(", re.S)
# Hadoop picks a codec by the name: such a split's byte S is not a plain file's offset
_CODEC_SUFFIXES = (".bz2", ".gz", ".deflate", ".zst", ".lz4", ".snappy", ".lzo")


def in_file_lines(note: str) -> str:
    """``FILE (split at byte S) line K`` as ``FILE:LINE`` for an uncompressed local file.
    Hadoop's LineRecordReader starts a split at S > 0 after the first newline at or
    after S (the split before reads that line), so its K-th line is the file's line
    (newlines before S) + 1 + K, i.e. the line at byte S's number + K. Read after the job
    for the few notes kept; a note whose file cannot be read here is left as it is."""
    m = _IN_SPLIT.fullmatch(note)
    if not m or m.group(1).endswith(_CODEC_SUFFIXES):
        return note
    path, start, k = m.group(1), int(m.group(2)), int(m.group(3))
    try:
        line = line_number(Path(path), start) + k
    except OSError:
        return note
    return f"bad record at {location(path, line)} {m.group(4)}"


def _file_order(note: str) -> Tuple[str, int, int]:
    """(file, split start, line) of a note, so that notes sort as the records stood."""
    m = _IN_SPLIT.fullmatch(note)
    if m:
        return m.group(1), int(m.group(2)), int(m.group(3))
    m = _AT_LINE.match(note)
    return (m.group(1), 0, int(m.group(2))) if m else (note, 0, 0)


def kept_notes(notes: List[str]) -> List[str]:
    """The first ``MAX_NOTES`` in file order (Spark's tasks report in any order), each
    as ``FILE:LINE`` where it can be had."""
    return [in_file_lines(n) for n in sorted(notes, key=_file_order)[:MAX_NOTES]]


def check(req: BuildRequest) -> None:
    check_cluster_options(req, "spark")


def run(req: BuildRequest) -> BuildResult:
    cluster.check_spark()
    out_dir = req.workdir / "output"
    # Spark's counters are the harness's accumulators, written whenever the job succeeds
    # (never read from logs): none at all means no task ran, the input held nothing.
    totals = run_job(req, "spark", job_args(req, "spark", out_dir)) or {"tokens": 0}
    parts = sorted(p for p in out_dir.iterdir() if p.name.startswith("part-"))
    if req.on_progress:
        req.on_progress(sum(p.stat().st_size for p in req.inputs))
    notes: List[str] = []  # the job's bad-record notes ride in its output on Spark
    n = repartition(parts, req.staging, int(req.parts or len(parts)), req.memory_mb, notes)
    return BuildResult(totals, {"scheme": indexfmt.HADOOP_KEYFIELD, "num_parts": n},
                       notes=kept_notes(notes))
