#!/usr/bin/env python3
"""Time invindex's runners against each other and against baselines, on one corpus.

Each (runner, corpus) pair runs ``--runs`` times as a separate process tree; the table
gives the median wall time, input MB/s, the median peak RSS of the whole process tree
(sampled from /proc every 20 ms, all processes summed) and the speed-up against the
tutorial pipeline measured in the same run. Figures go to a JSON file, and a PNG chart
of time and memory against input size when matplotlib is installed.

    python scripts/benchmark.py --size-mb 50 --runs 3 --json bench-out/bench.json
    python scripts/benchmark.py --corpus ../shared/corpora/kjv.tsv.gz --runners fast,pipe
    python scripts/benchmark.py --size-mb 50 --size-mb 200 --size-mb 800 --runners fast \\
        --runs 3 --png bench-out/scaling.png
    python scripts/benchmark.py --serve sample-index   # load run of invindex serve
    python scripts/benchmark.py --repeat 7 --runners fast,tantivy   # README's real text
    python scripts/benchmark.py --real-mb 50 --streaming --runs 5   # scripts' CPU time

Runners: tutorial (scripts/baseline: whitespace mapper, LC_ALL=C sort, doc-list reducer,
no tf, no positions), mrjob-local (our job on mrjob's local runner), pipe, fast,
fast-j1 (the default build with -j 1, for the --jobs speed-up), fast-python (the fast
runner without numpy/pyarrow), tantivy (when installed). Runners take turns run by
run; the table adds the CPU time of the whole process tree and the ratio to tantivy.
These machines are noisy: compare ratios within one run, not absolute times across runs.

Search mode (scripts/bench_search.py): invindex search beside tantivy on ~30 MB of real
text from ../shared/corpora, 300 mixed queries: open time, QPS, p50/p95/p99, peak RSS.

    python scripts/benchmark.py --search --search-mb 30 --json bench-out/search.json

Stores mode (scripts/bench_stores.py): publish the index of a --size-mb corpus to SQLite
and a throwaway PostgreSQL (and DynamoDB on moto with --stores-list ...,dynamodb), then
the search set against the index directory and each store.

    python scripts/benchmark.py --stores --size-mb 50 --json bench-out/stores.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_search  # noqa: E402
import bench_stores  # noqa: E402
import loadtest  # noqa: E402
import streaming_cpu  # noqa: E402
from realtext import default_corpora, repeat_corpus  # noqa: E402
from synth import make_corpus  # noqa: E402

PY = sys.executable
ALL_RUNNERS = ["tutorial", "mrjob-local", "pipe", "fast", "fast-j1", "fast-python", "tantivy"]


# -- measuring a process tree ----------------------------------------------------------
def _children() -> Dict[int, List[int]]:
    kids: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> int:
    kids = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(kids.get(pid, ()))
    return total


def measure(cmd: List[str], env: Dict[str, str] | None = None) -> Dict[str, float]:
    """Wall seconds, CPU seconds (user + system of the whole tree: every process that
    was waited for) and peak RSS (MB, whole tree) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed: {err.decode()[-500:]}")
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak / 1024}


# -- the runners ----------------------------------------------------------------------
def command(runner: str, corpus: Path, out: Path, jobs: int, memory: int) -> List[str]:
    inv = [PY, "-m", "invindex.cli", "-q", "build", str(corpus), "-o", str(out),
           "--overwrite", "-j", str(jobs), "--memory", str(memory)]
    if runner == "tutorial":
        b = HERE / "baseline"
        pipe = (f"cat {corpus} | {PY} {b / 'tutorial_mapper.py'} | "
                f"LC_ALL=C sort -S {memory // 2}M --parallel={jobs} | "
                f"{PY} {b / 'tutorial_reducer.py'} > {out}")
        return ["bash", "-o", "pipefail", "-c", pipe]
    if runner == "mrjob-local":
        return inv + ["-r", "local"]
    if runner == "pipe":
        return inv + ["-r", "pipe"]
    if runner == "fast":
        return inv + ["-r", "fast"]
    if runner == "fast-j1":  # the default build on one core, for --jobs scaling
        return inv[:inv.index("-j")] + ["-j", "1"] + inv[inv.index("-j") + 2:] + ["-r", "fast"]
    if runner == "fast-python":
        return inv + ["-r", "fast", "--engine", "python"]
    if runner == "tantivy":
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        return [PY, str(HERE / "baseline" / "tantivy_index.py"), str(out), str(jobs),
                str(corpus)]
    raise SystemExit(f"unknown runner {runner}")


def available(runner: str) -> bool:
    if runner == "tantivy":
        import importlib.util

        return importlib.util.find_spec("tantivy") is not None
    if runner == "mrjob-local":
        import importlib.util

        return importlib.util.find_spec("mrjob") is not None
    return True


def prepare_corpora(args: argparse.Namespace, work: Path) -> List[Path]:
    corpora = []
    for size in args.size_mb or []:
        path = work / f"synth-{size:g}mb-seed{args.seed}.tsv"
        if not path.exists():
            print(f"generating {path} ...", file=sys.stderr)
            with open(path, "wb") as f:
                make_corpus(f, size, seed=args.seed)
        corpora.append(path)
    for copies in args.repeat or []:
        corpora.append(repeat_corpus(default_corpora(), work / f"real-x{copies}.tsv",
                                     copies=copies))
    for mb in args.real_mb or []:
        corpora.append(repeat_corpus(default_corpora(), work / f"real-{mb:g}mb.tsv", mb=mb,
                                     cut=True))
    for given in args.corpus or []:
        p = Path(given)
        if p.suffix == ".gz":  # the tutorial pipeline and tantivy read plain text
            plain = work / p.name[:-3]
            if not plain.exists():
                with gzip.open(p, "rb") as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            p = plain
        corpora.append(p)
    if not corpora:
        raise SystemExit("give --size-mb, --repeat, --real-mb or --corpus")
    return corpora


def chart(results: List[dict], path: Path, budget_mb: int) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart", file=sys.stderr)
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for runner in dict.fromkeys(r["runner"] for r in results):
        rows = sorted((r for r in results if r["runner"] == runner), key=lambda r: r["input_mb"])
        xs = [r["input_mb"] for r in rows]
        ax1.plot(xs, [r["wall_s"] for r in rows], "o-", label=runner)
        ax2.plot(xs, [r["peak_rss_mb"] for r in rows], "o-", label=runner)
    ax2.axhline(budget_mb, color="grey", ls="--", lw=1, label=f"--memory {budget_mb}")
    ax1.set(xlabel="input MB", ylabel="wall time, s (median)", title="Build time")
    ax2.set(xlabel="input MB", ylabel="peak RSS of process tree, MB", title="Memory")
    for ax in (ax1, ax2):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"chart: {path}", file=sys.stderr)


# Issue 18's targets for the default build: (label, the result's field, bound, at most?)
TARGETS = [("x tantivy (wall)", "x_tantivy", 1.5, True),
           ("x tutorial (speed-up)", "speedup_vs_tutorial", 8.0, False),
           ("-j 2 speed-up over -j 1", "jobs_speedup", 1.8, False)]


def target_lines(results: List[dict], memory_mb: int) -> List[str]:
    """Issue 18's targets against the default build's figures, per corpus: the ratio,
    the bound, met or not (only those this run measured)."""
    lines = []
    for r in results:
        if r["runner"] != "fast":
            continue
        cells = []
        for label, key, bound, at_most in TARGETS:
            value = r.get(key)
            if value:
                met = value <= bound if at_most else value >= bound
                cells.append(f"{label} {value:.2f} ({'<=' if at_most else '>='} {bound}: "
                             f"{'met' if met else 'not met'})")
        met = r["peak_rss_mb"] <= memory_mb
        cells.append(f"peak {r['peak_rss_mb']:.0f} MB ({'within' if met else 'over'} "
                     f"--memory {memory_mb})")
        lines.append(f"targets, {r['corpus']}: " + "; ".join(cells))
    return lines


def main() -> None:
    # Runners run as a cluster task would: PYTHONUNBUFFERED (set in some shells, this
    # project's machine among them) makes a print-per-word script such as the tutorial's
    # mapper pay one write() per word, several times its CPU, and flatters every ratio.
    os.environ.pop("PYTHONUNBUFFERED", None)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--size-mb", type=float, action="append", help="synthetic corpus size")
    p.add_argument("--corpus", action="append", help="a doc_id<TAB>text file (.gz ok)")
    p.add_argument("--repeat", type=int, action="append", metavar="N",
                   help="real text: ../shared/corpora/*.tsv.gz concatenated N times under "
                        "distinct doc ids (7: the README's 53 MB; scripts/realtext.py)")
    p.add_argument("--real-mb", type=float, action="append", metavar="MB",
                   help="real text: the first MB megabytes of that repeated mix")
    p.add_argument("--streaming", action="store_true",
                   help="instead: CPU time of the streaming scripts beside the tutorial's "
                        "(scripts/streaming_cpu.py)")
    p.add_argument("--runners", default="tutorial,mrjob-local,pipe,fast,tantivy")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--memory", type=int, default=1024, help="MB budget for our runners")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work", default="bench-out", help="corpora and outputs go here")
    p.add_argument("--json", default=None, help="figures (default bench-out/bench.json, "
                   "or bench-out/search.json with --search)")
    p.add_argument("--search", action="store_true", help="the search benchmark instead")
    p.add_argument("--search-mb", type=float, default=30, help="search corpus size")
    p.add_argument("--queries", type=int, default=300, help="search queries")
    p.add_argument("--stores", action="store_true", help="the serving-store benchmark")
    p.add_argument("--stores-list", default="sqlite,postgresql",
                   help="stores to publish to (sqlite,postgresql,dynamodb)")
    p.add_argument("--pg-uri", help="an existing PostgreSQL for --stores (else a "
                   "throwaway server from Debian's binaries)")
    p.add_argument("--png", default=None)
    p.add_argument("--serve", metavar="INDEX",
                   help="instead: a load run of `invindex serve INDEX` (scripts/loadtest.py; "
                        "16 clients x 100 requests)")
    args = p.parse_args()
    if args.serve:
        return loadtest.main([args.serve, "--json", str(Path(args.work) / "serve.json")])
    if args.stores:
        args.json = args.json or "bench-out/stores.json"
        bench_stores.run(args)
        return
    if args.search:
        args.json = args.json or "bench-out/search.json"
        bench_search.run(args)
        return
    args.json = args.json or "bench-out/bench.json"
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    corpora = prepare_corpora(args, work)
    if args.streaming:
        streaming_cpu.run(corpora, args.runs, work, Path(args.json))
        return
    runners = [r for r in args.runners.split(",") if r]
    for r in runners:
        if r not in ALL_RUNNERS:
            raise SystemExit(f"unknown runner {r}; choose from {', '.join(ALL_RUNNERS)}")
    runners = [r for r in runners if available(r) or print(f"skipping {r}: not installed",
                                                           file=sys.stderr)]
    env = dict(os.environ, INVINDEX_LOG_LEVEL="ERROR")
    results = []
    out_root = Path(tempfile.mkdtemp(prefix="bench-", dir=work))
    loads = [os.getloadavg()[0]]
    try:
        for corpus in corpora:
            mb = corpus.stat().st_size / 1e6
            runs: Dict[str, List[dict]] = {r: [] for r in runners}
            for i in range(args.runs):  # runners take turns, so load hits them alike
                for runner in runners:
                    cmd = command(runner, corpus, out_root / runner, args.jobs, args.memory)
                    m = measure(cmd, env)
                    m["load"] = os.getloadavg()[0]
                    loads.append(m["load"])
                    runs[runner].append(m)
                    print(f"  {corpus.name} {runner} run {i + 1}: {m['wall_s']:.2f} s, "
                          f"CPU {m['cpu_s']:.2f} s, {m['peak_rss_mb']:.0f} MB, "
                          f"load {m['load']:.1f}", file=sys.stderr)
            for runner in runners:
                wall = statistics.median(r["wall_s"] for r in runs[runner])
                results.append({
                    "corpus": corpus.name, "input_mb": round(mb, 2), "runner": runner,
                    "runs": runs[runner], "wall_s": wall, "mb_per_s": mb / wall,
                    "cpu_s": statistics.median(r["cpu_s"] for r in runs[runner]),
                    "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs[runner])})
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    for r in results:
        same = {b["runner"]: b for b in results if b["corpus"] == r["corpus"]}
        base, tant = same.get("tutorial"), same.get("tantivy")
        r["speedup_vs_tutorial"] = base["wall_s"] / r["wall_s"] if base else None
        r["x_tantivy"] = r["wall_s"] / tant["wall_s"] if tant else None
        if r["runner"] == "fast" and "fast-j1" in same:
            r["jobs_speedup"] = same["fast-j1"]["wall_s"] / r["wall_s"]
    header = (f"{'corpus':<28} {'runner':<12} {'wall s':>8} {'CPU s':>7} {'MB/s':>7} "
              f"{'peak MB':>8} {'x tutorial':>10} {'x tantivy':>9}")
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = f"{r['speedup_vs_tutorial']:.1f}" if r["speedup_vs_tutorial"] else "-"
        tant = f"{r['x_tantivy']:.2f}" if r["x_tantivy"] else "-"
        print(f"{r['corpus']:<28} {r['runner']:<12} {r['wall_s']:>8.2f} {r['cpu_s']:>7.2f} "
              f"{r['mb_per_s']:>7.2f} {r['peak_rss_mb']:>8.0f} {ratio:>10} {tant:>9}")
        if "jobs_speedup" in r:
            print(f"{'':<28} fast -j {args.jobs} is {r['jobs_speedup']:.2f}x fast -j 1")
    print(f"load average (1 min) during the runs: {min(loads):.1f} to {max(loads):.1f}")
    for line in target_lines(results, args.memory):
        print(line)
    meta = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                        "python": platform.python_version(),
                        "processor": platform.processor() or platform.machine()},
            "runs_per_point": args.runs, "jobs": args.jobs, "memory_mb": args.memory,
            "load_average": [min(loads), max(loads)],
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"figures: {args.json}", file=sys.stderr)
    if args.png:
        chart(results, Path(args.png), args.memory)


if __name__ == "__main__":
    main()
