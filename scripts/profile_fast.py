#!/usr/bin/env python3
"""Where the fast engine's time goes, two ways.

By default, the build as ``--runner fast -j N`` runs it (the same plan, pools and
functions as ``fast.run``), timed from outside and inside: per worker, the wall and
CPU time of each map phase (read, sort, invert, write), how long each worker sat idle
before the map ended, how many batches and runs each partition got, and each
partition's merge (wall, CPU, and how long the merge waited for the map's slowest
worker). ``--cprofile``: one worker's map and merge of partition 0 under cProfile
(CPU clock, so a shared machine distorts it little), with the map's phases (reading,
tokenizing, inverting, document table, writing runs) as shares of its CPU time and the
functions with the most cumulative time. The README's Performance section quotes both.

    python scripts/profile_fast.py bench-out/real-50mb.tsv --jobs 2
    python scripts/profile_fast.py bench-out/real-50mb.tsv --cprofile --batch-mb 16
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from invindex.core.analysis import Analyzer  # noqa: E402
from invindex.runners import fast, fast_map, fast_plan, fast_route  # noqa: E402

# The map's phases: (name, functions whose cumulative time it is, functions inside
# those that belong to another phase).
PHASES = [
    ("reading records", ["clean_records", "iter_records", "read_batches"], []),
    ("tokenizing", ["_tokenize_latin1", "_tokenize_python"], []),
    ("inverting", ["_invert_terms"], ["_tokenize_latin1", "_tokenize_python",
                                      "term_postings"]),
    ("postings text", ["term_postings"], []),
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


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed_reduce(runs: List[str], out: str) -> Tuple[float, float, float, int]:
    """(start, wall, CPU, pid) of one partition's merge, in its worker."""
    t0, c0 = time.perf_counter(), _cpu()
    fast.reduce_partition(runs, out)
    return t0, time.perf_counter() - t0, _cpu() - c0, os.getpid()


def pipeline(path: Path, jobs: int, memory: int, engine: str, no_route: bool) -> None:
    """The build's map and reduce as ``fast.run`` does them, timed per worker."""
    engine = fast_map.resolve_engine(engine)
    parts = jobs
    batch = fast_plan.batch_bytes_for(memory, jobs, engine)
    splits = fast_plan.plan_splits([path], fast_plan.split_bytes_for([path], jobs))
    budget = fast_plan.worker_budget_bytes(memory, jobs)
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB), -j {jobs}, --memory {memory}: "
          f"{engine} engine, {len(splits)} splits, batches of {batch / 2**20:.1f} MB, "
          f"{parts} partitions")
    with tempfile.TemporaryDirectory() as work:
        t0, c0 = time.perf_counter(), time.process_time()
        route = not no_route and fast_route.routable([path], batch)
        ranges = fast_route.range_count([path], batch, jobs)
        bounds = fast_route.sample_boundaries(fast_route.sample_ids([path], ranges), ranges)
        route = route and bool(bounds)
        tasks: List[Tuple[str, fast_map.MapResult]] = []
        if route:  # as fast.run: records to doc_id ranges (numpy and pyarrow imported
            # meanwhile), then each range inverted by a pool forked after the import
            with ProcessPoolExecutor(jobs) as pool:
                futs = [pool.submit(fast_route.route_split, s, bounds, work, False, batch)
                        for s in splits]
                fast.preload(engine)
                print(f"preload (main process, while routing): "
                      f"{time.perf_counter() - t0:.2f} s wall")
                routed: List[List[str]] = [[] for _ in range(len(bounds) + 1)]
                for s, f in zip(splits, futs, strict=True):
                    tasks.append((f"route split {s.index}", f.result()))
                    for batch_paths in tasks[-1][1].runs:
                        for r, p in enumerate(batch_paths):
                            if p:
                                routed[r].append(p)
            routed_at = time.perf_counter() - t0
            with ProcessPoolExecutor(jobs) as pool:
                futs = [pool.submit(fast_route.map_range, r, paths, Analyzer(), parts, work,
                                    batch, engine, budget)
                        for r, paths in enumerate(routed) if paths]
                results = [f.result() for f in futs]
            tasks += [(f"invert range {i}", r) for i, r in enumerate(results)]
            print(f"routing to {ranges} doc_id ranges took {routed_at:.2f} s wall "
                  "(the inverting waits for every split)")
        else:
            fast.preload(engine)
            print(f"preload (main process): {time.perf_counter() - t0:.2f} s wall")
            with ProcessPoolExecutor(jobs) as pool:
                futs = [pool.submit(fast_map.map_split, s, Analyzer(), parts, work, False,
                                    batch, engine, budget, 0) for s in splits]
                results = [f.result() for f in futs]
            tasks = [(f"split {s.index}", r) for s, r in zip(splits, results, strict=True)]
        mapped = time.perf_counter() - t0
        workers: Dict[int, List[float]] = {}
        print("\nmap, per task: phase wall/CPU s")
        for name, r in tasks:
            cells = "  ".join(f"{k} {w:.2f}/{c:.2f}" for k, (w, c) in r.phases.items())
            runs = f"{len(r.runs)} batches" if not name.startswith("route") else ""
            print(f"  {name} (pid {r.pid}): {runs}  {cells}")
            w = workers.setdefault(r.pid, [0.0, 0.0])
            w[0] += sum(v[0] for v in r.phases.values())
            w[1] += sum(v[1] for v in r.phases.values())
        print(f"map: {mapped:.2f} s wall (pool start, imports and the last split included)")
        for pid, (w, c) in workers.items():
            print(f"  worker {pid}: busy {w:.2f} s wall, {c:.2f} s CPU, idle before the "
                  f"map ended {mapped - w:.2f} s")
        runs_by_part: List[List[str]] = [[] for _ in range(parts)]
        for r in results:
            for batch_runs in r.runs:
                for p, run in enumerate(batch_runs):
                    runs_by_part[p].append(run)
        sizes = [sum(os.path.getsize(x) for x in runs) / 1e6 for runs in runs_by_part]
        print("runs per partition: " + ", ".join(
            f"{len(runs)} ({mb:.0f} MB)" for runs, mb in zip(runs_by_part, sizes, strict=True)))
        outs = [os.path.join(work, f"part-{p:05d}") for p in range(parts)]
        t1 = time.perf_counter()
        with ProcessPoolExecutor(min(jobs, parts)) as pool:
            reduced = list(pool.map(timed_reduce, runs_by_part, outs))
        end = time.perf_counter()
        for p, (start, wall, cpu, pid) in enumerate(reduced):
            print(f"  merge of partition {p} (pid {pid}): {wall:.2f} s wall, {cpu:.2f} s CPU, "
                  f"started {start - t0 - mapped:.2f} s after the map ended")
        print(f"reduce: {end - t1:.2f} s wall; build total {end - t0:.2f} s wall, "
              f"main process {time.process_time() - c0:.2f} s CPU")


def cprofile(path: Path, engine: str, batch_mb: int, parts: int, top: int) -> None:
    """One worker's map and merge of partition 0 under cProfile."""
    with tempfile.TemporaryDirectory() as work:
        split = fast_plan.Split(0, path, 0, -1)
        prof = cProfile.Profile(time.process_time)
        t0 = time.process_time()
        prof.enable()
        res = fast_map.map_split(split, Analyzer(), parts, work, False, batch_mb << 20,
                                 engine)
        prof.disable()
        t1 = time.process_time()
        print(f"map: {t1 - t0:.2f} s CPU, {len(res.runs)} batches, {res.docs} docs")
        phases(pstats.Stats(prof))
        pstats.Stats(prof).sort_stats("cumulative").print_stats(top)
        prof = cProfile.Profile(time.process_time)
        runs = [r[0] for r in res.runs]
        t1 = time.process_time()
        prof.enable()
        fast.reduce_partition(runs, str(Path(work) / "part-00000"))
        prof.disable()
        print(f"merge of partition 0 ({len(runs)} runs): {time.process_time() - t1:.2f} s CPU")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(top)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("corpus")
    p.add_argument("--engine", default="arrow", choices=["arrow", "python"])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--memory", type=int, default=1024)
    p.add_argument("--cprofile", action="store_true", help="one worker under cProfile")
    p.add_argument("--no-route", action="store_true",
                   help="batches in file order, not routed to doc_id ranges (fast.ROUTE off)")
    p.add_argument("--batch-mb", type=int, default=16, help="with --cprofile")
    p.add_argument("--parts", type=int, default=2, help="with --cprofile")
    p.add_argument("--top", type=int, default=25, help="with --cprofile")
    args = p.parse_args()
    if args.cprofile:
        cprofile(Path(args.corpus), args.engine, args.batch_mb, args.parts, args.top)
    else:
        pipeline(Path(args.corpus), args.jobs, args.memory, args.engine, args.no_route)


if __name__ == "__main__":
    main()
