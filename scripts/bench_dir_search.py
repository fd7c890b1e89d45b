#!/usr/bin/env python3
"""Search latency on one index location, cold and warm: each round is a fresh process
that opens LOCATION (an index directory, a cloud URI or a store URI), runs the query
set once (cold: every term read for the first time in the process) and again (warm:
what the searcher's term cache keeps). Prints p50/p95 wall and CPU per pass, medians
of ``--runs`` rounds, and the load average. The query set is ``benchmark.py --stores``'s
(``bench-out/stores-queries.json``), or any JSON list of query strings.

    python scripts/bench_dir_search.py bench-out/stores-index bench-out/stores-queries.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Dict, List


def _pct(values: List[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def _pass(searcher, queries: List[str]) -> Dict[str, float]:
    wall, cpu = [], []
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        searcher.search(q, 10)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {"p50_ms": _pct(wall, 50) * 1e3, "p95_ms": _pct(wall, 95) * 1e3,
            "cpu_p50_ms": _pct(cpu, 50) * 1e3, "cpu_p95_ms": _pct(cpu, 95) * 1e3}


def worker(location: str, qfile: str) -> None:
    from invindex.search.searcher import Searcher
    from invindex.stores import open_source

    with open(qfile, encoding="utf-8") as f:
        queries = json.load(f)
    searcher = Searcher(open_source(location))
    print(json.dumps({"cold": _pass(searcher, queries), "warm": _pass(searcher, queries)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("location")
    p.add_argument("queries", help="a JSON list of query strings")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    rounds, loads = [], []
    for _ in range(args.runs):
        loads.append(os.getloadavg()[0])
        out = subprocess.run([sys.executable, __file__, "worker", args.location,
                              args.queries], check=True, capture_output=True, text=True)
        rounds.append(json.loads(out.stdout))
    print(f"{args.location}: medians of {args.runs} processes, load average "
          f"{min(loads):.1f}-{max(loads):.1f}")
    for name in ("cold", "warm"):
        m = {k: statistics.median(r[name][k] for r in rounds) for k in rounds[0][name]}
        print(f"  {name}: p50 {m['p50_ms']:.2f} ms, p95 {m['p95_ms']:.2f} ms wall; "
              f"CPU p50 {m['cpu_p50_ms']:.2f} ms, p95 {m['cpu_p95_ms']:.2f} ms")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(*sys.argv[2:4])
    else:
        main()
