#!/usr/bin/env python3
"""Where the fast engine's time goes: its map and its merge under cProfile, in-process.

One worker's work, as ``--runner fast -j 1`` does it: ``map_split`` over the whole file
(batches of ``--batch-mb``, runs written for ``--parts`` partitions), then
``reduce_partition`` of partition 0. The profiler's clock is CPU time (the machine is
shared). Prints the map's phases (reading, tokenizing, inverting, document table,
writing runs) as shares of its CPU time, then the functions with the most cumulative
time; the figures quoted in the README's Performance section.

    python scripts/profile_fast.py bench-out/real-50mb.tsv --engine arrow
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from invindex.core.analysis import Analyzer  # noqa: E402
from invindex.runners import fast_map, fast_merge, fast_plan  # noqa: E402

# The map's phases: (name, functions whose cumulative time it is, functions inside
# those that belong to another phase).
PHASES = [
    ("reading records", ["_clean_records", "iter_records", "_batches"], []),
    ("tokenizing", ["_tokenize_latin1", "_tokenize_python"], []),
    ("inverting", ["_invert_terms"], ["_tokenize_latin1", "_tokenize_python"]),
    ("document table", ["_doc_table", "doc_run_lines"], []),
    ("writing runs", ["write_parts"], []),
]


def phases(stats: pstats.Stats) -> None:
    """Each phase's CPU seconds and share of the whole map."""
    cum = {}
    for (_, _, name), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        cum[name] = cum.get(name, 0.0) + ct
    total = stats.total_tt  # type: ignore[attr-defined]
    rest = total
    for label, names, minus in PHASES:
        t = sum(cum.get(n, 0.0) for n in names) - sum(cum.get(n, 0.0) for n in minus)
        rest -= t
        print(f"  {label:<16} {t:6.2f} s  {100 * t / total:4.0f} %")
    print(f"  {'the rest':<16} {rest:6.2f} s  {100 * rest / total:4.0f} %")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--engine", default="arrow", choices=["arrow", "python"])
    p.add_argument("--batch-mb", type=int, default=16)
    p.add_argument("--parts", type=int, default=2)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    path = Path(args.corpus)
    with tempfile.TemporaryDirectory() as work:
        split = fast_plan.Split(0, path, 0, -1)
        prof = cProfile.Profile(time.process_time)
        t0 = time.process_time()
        prof.enable()
        res = fast_map.map_split(split, Analyzer(), args.parts, work, False,
                             args.batch_mb << 20, args.engine)
        prof.disable()
        t1 = time.process_time()
        print(f"map: {t1 - t0:.2f} s CPU, {len(res.runs)} batches, {res.docs} docs")
        phases(pstats.Stats(prof))
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
        prof = cProfile.Profile(time.process_time)
        runs = [r[0] for r in res.runs]
        t1 = time.process_time()
        prof.enable()
        fast_merge.reduce_partition(runs, str(Path(work) / "part-00000"))
        prof.disable()
        print(f"merge of partition 0 ({len(runs)} runs): {time.process_time() - t1:.2f} s CPU")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
