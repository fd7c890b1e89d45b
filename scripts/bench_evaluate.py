#!/usr/bin/env python3
"""The search evaluator's CPU time per boolean group as the corpus grows, the clauses
fixed (2,000, 5,000 and 20,000 postings): a group's cost should follow its postings,
not the number of documents. Medians of ``--runs`` (default 7); prints the load average.

    python scripts/bench_evaluate.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from invindex.search.evaluate import Evaluator  # noqa: E402
from invindex.search.plan import GroupNode, TermNode  # noqa: E402
from invindex.search.query import Occur  # noqa: E402
from invindex.search.termarrays import TermArrays  # noqa: E402

QUERIES = {"+a b -c": (Occur.MUST, Occur.SHOULD, Occur.MUST_NOT),
           "a b c": (Occur.SHOULD, Occur.SHOULD, Occur.SHOULD)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--docs", type=int, nargs="+", default=[200_000, 2_000_000, 10_000_000])
    p.add_argument("--runs", type=int, default=7)
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    for n in args.docs:
        rng = np.random.default_rng(1)
        terms = {}
        for t, df in (("a", 2000), ("b", 5000), ("c", 20000)):
            d = np.unique(rng.integers(0, n, df))
            terms[t] = TermArrays(d, np.ones(len(d)), np.arange(len(d) + 1),
                                  np.zeros(len(d), np.int64))
        ev = Evaluator(terms.__getitem__, n, np.ones(n))
        for name, occurs in QUERIES.items():
            tree = GroupNode(tuple((o, TermNode(t)) for o, t in zip(occurs, "abc",
                                                                      strict=True)))
            cpu = []
            for _ in range(args.runs):
                c = time.process_time()
                ev.evaluate(tree)
                cpu.append(time.process_time() - c)
            print(f"{n:>12,} documents  {name:8s}  median CPU "
                  f"{statistics.median(cpu) * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
