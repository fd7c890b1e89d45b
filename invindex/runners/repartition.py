"""Re-cut index lines into parts the way Hadoop's KeyFieldBasedPartitioner -k1,1 does.

mrjob's Spark harness groups by a Python hash and leaves each part in arrival order,
while an index needs every part sorted by term. One pass spreads the lines over
``parts`` buckets by ``indexfmt.partition_of`` and sorts each bucket (in memory, or in
sorted runs merged from disk when it exceeds the budget), so a Spark-built index is
partitioned exactly as one from EMR or a Hadoop cluster, and a lookup reads one part.
"""

from __future__ import annotations

import heapq
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Iterable, Iterator, List

from ..core import counters, indexfmt


def _lines(paths: Iterable[Path], aside: List[str] | None = None) -> Iterator[bytes]:
    """The lines of ``paths``; with ``aside``, the job's note lines go there instead."""
    note = f"{counters.NOTE_KEY}\t".encode()
    for path in paths:
        with open(path, "rb") as f:
            for line in f:
                if aside is not None and line.startswith(note):
                    aside.append(line[len(note):].decode("utf-8").rstrip("\n"))
                    continue
                yield line if line.endswith(b"\n") else line + b"\n"


def _sort_into(src: Path, dest: Path, budget: int, tmp: Path) -> None:
    runs: List[Path] = []
    with open(src, "rb") as f:
        while True:
            chunk = f.readlines(budget)
            if not chunk:
                break
            chunk.sort()
            run = tmp / f"run-{len(runs):05d}"
            run.write_bytes(b"".join(chunk))
            runs.append(run)
    if len(runs) <= 1:
        if runs:
            shutil.move(str(runs[0]), dest)
        else:
            dest.write_bytes(b"")
        return
    with ExitStack() as stack, open(dest, "wb") as out:
        files: List[IO[bytes]] = [stack.enter_context(open(r, "rb")) for r in runs]
        out.writelines(heapq.merge(*files))
    for r in runs:
        r.unlink()


def repartition(sources: List[Path], staging: Path, parts: int, memory_mb: int = 256,
                notes: List[str] | None = None) -> int:
    """Write ``part-00000``.. ``part-{parts-1}`` into ``staging``; return ``parts``.
    With ``notes``, the job's bad-record note lines are put there, not in a part."""
    parts = max(1, parts)
    with tempfile.TemporaryDirectory(prefix="invindex-repart-", dir=staging) as t:
        tmp = Path(t)
        buckets = [tmp / f"bucket-{i:05d}" for i in range(parts)]
        with ExitStack() as stack:
            outs = [stack.enter_context(open(b, "wb")) for b in buckets]
            for line in _lines(sources, notes):
                term = line[:line.index(b"\t")].decode("utf-8")
                outs[indexfmt.partition_of(term, parts)].write(line)
        budget = max(1, memory_mb) << 20
        for i, bucket in enumerate(buckets):
            _sort_into(bucket, staging / indexfmt.part_name(i), budget, tmp)
            bucket.unlink()
    return parts
