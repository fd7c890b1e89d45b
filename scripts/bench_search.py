#!/usr/bin/env python3
"""Search benchmark (``benchmark.py --search``): invindex beside tantivy, same documents.

1. A real-text corpus of about ``--search-mb`` MB: the corpora given (default
   ../shared/corpora/*.tsv.gz) repeated with a copy prefix on each doc_id.
2. Both indexes: invindex (fast runner, positions) and tantivy (positions).
3. ``--queries`` mixed queries (seeded) from the corpus' own words: rare, mid-frequency
   and very common terms, multi-term OR, ``+``/``-``, phrases of 2-3 consecutive words,
   AND/OR/NOT with parentheses.
4. Each engine in its own process: open the index, run the set once (warm-up), then
   again timed: per-query latency, whole-set time, queries per second, peak RSS.
   invindex runs with tantivy's BM25 parameters (k1 1.2, b 0.75) so that the overlap of
   the two top-10 lists says how alike the rankings are (tokenizers differ a little).
   Latency percentiles are wall time; "cpu p95" is the 95th percentile of each query's
   process CPU time, which a busy shared machine inflates much less than wall time.
"""

from __future__ import annotations

import json
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from realtext import default_corpora, repeat_corpus  # noqa: E402

ROOT = HERE.parent
TOKEN = re.compile(r"[^\W_]+")
K = 10


def make_corpus(sources: List[Path], mb: float, out: Path) -> Path:
    return repeat_corpus(sources, out, mb=mb)


def make_queries(corpus: Path, n: int, seed: int) -> List[str]:
    rng = random.Random(seed)
    df: Counter = Counter()
    texts: List[List[str]] = []
    with open(corpus, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f):
            toks = TOKEN.findall(line.partition("\t")[2].lower())
            df.update(set(toks))
            if i % 50 == 0 and len(toks) > 3:
                texts.append(toks)
    ranked = [t for t, _ in df.most_common()]
    common = ranked[:100]
    mid = [t for t in ranked if 100 <= df[t] <= 5000]
    rare = [t for t in ranked if 2 <= df[t] <= 40]

    def phrase(size: int) -> str:
        toks = rng.choice(texts)
        i = rng.randrange(0, len(toks) - size)
        return '"' + " ".join(toks[i:i + size]) + '"'

    makers = [
        lambda: rng.choice(rare),
        lambda: rng.choice(mid),
        lambda: rng.choice(common),
        lambda: " ".join(rng.choice(b) for b in (rare, mid, common)),
        lambda: f"{rng.choice(mid)} {rng.choice(mid)} {rng.choice(common)}",
        lambda: f"+{rng.choice(mid)} -{rng.choice(common)}",
        lambda: f"+{rng.choice(common)} +{rng.choice(mid)}",
        lambda: phrase(2),
        lambda: phrase(3),
        lambda: f"({rng.choice(mid)} OR {rng.choice(rare)}) AND {rng.choice(common)}",
        lambda: f"{rng.choice(common)} AND {rng.choice(mid)} NOT {rng.choice(mid)}",
        lambda: f"{phrase(2)} {rng.choice(mid)}",
    ]
    return [makers[i % len(makers)]() for i in range(n)]


# -- the engines (each runs in its own process: `bench_search.py worker ENGINE ...`) --
def _run_invindex(index: str, queries: List[str], compact: bool) -> Dict:
    sys.path.insert(0, str(ROOT))
    from invindex.search.compact import CompactIndex
    from invindex.search.searcher import Searcher
    from invindex.search.source import IndexDirSource

    t = time.perf_counter()
    source = IndexDirSource(index)
    cindex = CompactIndex.open(source.reader, source.doc_lengths) if compact else None
    searcher = Searcher(source, k1=1.2, b=0.75, index=cindex)
    opened = time.perf_counter() - t
    return _timed(opened, queries, lambda q: [h.doc_id for h in searcher.search(q, K).hits])


def _run_tantivy(index: str, queries: List[str]) -> Dict:
    import tantivy

    t = time.perf_counter()
    ix = tantivy.Index.open(index)
    ix.reload()
    searcher = ix.searcher()
    opened = time.perf_counter() - t

    def one(q: str) -> List[str]:
        hits = searcher.search(ix.parse_query(q, ["body"]), K).hits
        return [searcher.doc(a)["doc_id"][0] for _, a in hits]

    return _timed(opened, queries, one)


def _timed(opened: float, queries: List[str], one) -> Dict:
    for q in queries:  # warm-up pass: the OS page cache and the engine's own caches
        one(q)
    lat, cpu, results = [], [], []
    start = time.perf_counter()
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        results.append(one(q))
        lat.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    total = time.perf_counter() - start
    return {"open_s": opened, "total_s": total, "latencies_ms": [x * 1000 for x in lat],
            "cpu_ms": [x * 1000 for x in cpu],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "results": results}


def worker(argv: List[str]) -> None:
    engine, index, qfile = argv
    queries = json.loads(Path(qfile).read_text())
    if engine == "tantivy":
        out = _run_tantivy(index, queries)
    else:
        out = _run_invindex(index, queries, compact=engine == "invindex-compact")
    print(json.dumps(out))


# -- driver ------------------------------------------------------------------------
def run(args) -> None:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    sources = [Path(c) for c in args.corpus or ()] or default_corpora()
    corpus = make_corpus(sources, args.search_mb, work / f"search-{args.search_mb:g}mb.tsv")
    mb = corpus.stat().st_size / 1e6
    ours, theirs = work / "search-idx-invindex", work / "search-idx-tantivy"
    env_py = [sys.executable]
    if not (ours / "_SUCCESS").exists():
        subprocess.run(env_py + ["-m", "invindex.cli", "-q", "build", str(corpus), "-o",
                                 str(ours), "--overwrite"], check=True)
    engines = ["invindex", "invindex-compact"]
    try:
        import tantivy  # noqa: F401

        if not (theirs / "meta.json").exists():
            theirs.mkdir(parents=True, exist_ok=True)
            subprocess.run(env_py + [str(HERE / "baseline" / "tantivy_index.py"), str(theirs),
                                     str(args.jobs), str(corpus)], check=True)
        engines.append("tantivy")
    except ImportError:
        print("tantivy not installed (pip install tantivy): invindex only", file=sys.stderr)
    queries = make_queries(corpus, args.queries, args.seed)
    qfile = work / "search-queries.json"
    qfile.write_text(json.dumps(queries))
    rows = {}
    for engine in engines:
        index = theirs if engine == "tantivy" else ours
        if engine == "invindex-compact":  # build the compact copy outside the timing
            subprocess.run(env_py + [__file__, "worker", engine, str(index), str(qfile)],
                           check=True, capture_output=True)
        out = subprocess.run(env_py + [__file__, "worker", engine, str(index), str(qfile)],
                             check=True, capture_output=True, text=True)
        rows[engine] = json.loads(out.stdout)
        print(f"  {engine}: {rows[engine]['total_s']:.2f} s", file=sys.stderr)
    base = rows.get("tantivy")
    with open(corpus, "rb") as f:
        docs = sum(1 for _ in f)
    print(f"\n{len(queries)} queries, top {K}, on {corpus.name} ({mb:.1f} MB, "
          f"{docs:,} documents); second (warm) pass\n")
    header = (f"{'engine':<18} {'open s':>7} {'set s':>7} {'QPS':>8} {'p50 ms':>7} "
              f"{'p95 ms':>7} {'p99 ms':>7} {'cpu p95':>7} {'peak MB':>8} {'x tantivy':>9} "
              f"{'overlap@10':>10}")
    print(header)
    print("-" * len(header))
    summary = {}
    for engine, r in rows.items():
        lat = sorted(r["latencies_ms"])
        pct = {p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] for p in (50, 95, 99)}
        cpu = sorted(r["cpu_ms"])
        cpu95 = cpu[min(len(cpu) - 1, int(0.95 * len(cpu)))]
        ratio = r["total_s"] / base["total_s"] if base else None
        overlap = statistics.mean(
            len(set(a) & set(b)) / max(len(a), len(b)) if a or b else 1.0
            for a, b in zip(r["results"], base["results"], strict=True)) if base else None
        summary[engine] = {"open_s": r["open_s"], "total_s": r["total_s"],
                           "qps": len(queries) / r["total_s"], "p50_ms": pct[50],
                           "p95_ms": pct[95], "p99_ms": pct[99], "cpu_p95_ms": cpu95,
                           "peak_rss_mb": r["peak_rss_mb"], "x_tantivy": ratio,
                           "overlap_at_10": overlap}
        print(f"{engine:<18} {r['open_s']:>7.2f} {r['total_s']:>7.3f} "
              f"{len(queries) / r['total_s']:>8.0f} {pct[50]:>7.2f} {pct[95]:>7.2f} "
              f"{pct[99]:>7.2f} {cpu95:>7.2f} {r['peak_rss_mb']:>8.0f} "
              f"{'-' if ratio is None else f'{ratio:.1f}':>9} "
              f"{'-' if overlap is None else f'{overlap:.2f}':>10}")
    slow = sorted(zip(rows["invindex-compact"]["latencies_ms"], queries, strict=True),
                  reverse=True)[:8]
    print("\nslowest invindex-compact queries: " + "; ".join(
        f"{q} {ms:.1f} ms" for ms, q in slow))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({
        "corpus": corpus.name, "input_mb": round(mb, 1), "queries": queries,
        "results": summary}, indent=2))
    print(f"figures: {args.json}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(sys.argv[2:])
    else:
        raise SystemExit("run through scripts/benchmark.py --search")
