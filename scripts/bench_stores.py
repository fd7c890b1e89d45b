#!/usr/bin/env python3
"""Serving-store benchmark (``benchmark.py --stores``): publish, then search each store.

1. A seeded synthetic corpus of ``--size-mb`` MB (default 50), or ``--corpus FILE``;
   its index built with the default runner (the build's wall time is the yardstick).
2. ``invindex publish`` into each store as its own process: wall and CPU seconds,
   index MB/s. SQLite is a file under ``--work``; PostgreSQL is a throwaway server from
   Debian's binaries (initdb + pg_ctl on a free loopback port, as ``postgres`` when run
   as root), or ``--pg-uri`` (password in PGPASSWORD); DynamoDB (only with
   ``--stores ...,dynamodb``) runs on moto's server: an emulator's figures, not AWS's.
3. ``--queries`` mixed queries (``bench_search.make_queries``: rare, mid and common
   terms, OR, +/-, phrases, boolean groups) against the index directory (JSON parts,
   term by term) and each store, each in its own process: open time, a warm-up pass,
   then the timed pass: p50/p95/p99 wall, CPU p95, queries per second.

4. ``--runs`` rounds of all that (default 3): medians, each ratio against the build
   of its own round, the load average at each step (``os.getloadavg``).

    python scripts/benchmark.py --stores --size-mb 50 --json bench-out/stores.json
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import bench_search  # noqa: E402
from synth import make_corpus  # noqa: E402

PY = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def temp_postgres() -> Iterator[str]:
    """A throwaway PostgreSQL on loopback; yields a URI, the password in PGPASSWORD."""
    bindir = next((Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                                           reverse=True) if (p / "initdb").exists()), None)
    if bindir is None:
        raise SystemExit("no PostgreSQL server binaries (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    password = uuid.uuid4().hex
    (root / "pw").write_text(password + "\n")
    sudo: List[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(root / "pw", "postgres")
        sudo = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = str(root / "data")
    subprocess.run(sudo + [str(bindir / "initdb"), "-D", data, "-U", "bench",
                           f"--pwfile={root / 'pw'}", "--auth-host=scram-sha-256",
                           "--auth-local=trust", "-E", "UTF8"], check=True,
                   capture_output=True)
    subprocess.run(sudo + [str(bindir / "pg_ctl"), "-D", data, "-l", str(root / "log"), "-w",
                           "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {root}",
                           "start"], check=True, capture_output=True)
    os.environ["PGPASSWORD"] = password
    try:
        yield f"postgresql://bench@127.0.0.1:{port}/postgres?sslmode=disable"
    finally:
        subprocess.run(sudo + [str(bindir / "pg_ctl"), "-D", data, "-m", "fast", "-w",
                               "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def temp_moto() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                       "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    time.sleep(3)
    try:
        yield "dynamodb://bench"
    finally:
        proc.terminate()
        proc.wait()


def timed_run(cmd: List[str]) -> Dict[str, float]:
    """Wall and CPU (user + system of the child) seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=dict(os.environ, INVINDEX_LOG_LEVEL="ERROR"))
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}


def worker(location: str, qfile: str) -> None:
    """One process: open LOCATION, run the query set twice (warm-up, then timed)."""
    sys.path.insert(0, str(ROOT))
    from invindex.search.searcher import Searcher
    from invindex.stores import open_source

    queries = json.loads(Path(qfile).read_text())
    t = time.perf_counter()
    searcher = Searcher(open_source(location))
    opened = time.perf_counter() - t
    out = bench_search._timed(opened, queries,
                              lambda q: [h.doc_id for h in searcher.search(q, 10).hits])
    print(json.dumps(out))


def pct(values: List[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def run(args) -> None:
    """``--runs`` rounds (default 3) of build, publish to each store, search each
    location; every figure is the median over the rounds, each ratio taken against the
    build of its own round; the load average is recorded beside each round."""
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.corpus:
        corpus = Path(args.corpus[0])
    else:
        size = (args.size_mb or [50])[0]
        corpus = work / f"synth-{size:g}mb-seed{args.seed}.tsv"
        if not corpus.exists():
            with open(corpus, "wb") as f:
                make_corpus(f, size, seed=args.seed)
    index = work / "stores-index"
    queries = bench_search.make_queries(corpus, args.queries, args.seed)
    qfile = work / "stores-queries.json"
    qfile.write_text(json.dumps(queries))
    stores = [s for s in args.stores_list.split(",") if s]
    rounds: List[Dict[str, Dict]] = []
    for n in range(max(1, args.runs)):
        rows: Dict[str, Dict] = {"build": {"load": os.getloadavg()[0]}}
        rows["build"].update(timed_run([PY, "-m", "invindex", "-q", "build", str(corpus),
                                        "-o", str(index), "--overwrite"]))
        index_mb = sum(p.stat().st_size for p in index.glob("part-*")) / 1e6
        print(f"round {n + 1}: build {rows['build']['wall_s']:.1f} s wall, index "
              f"{index_mb:.0f} MB, load {rows['build']['load']:.1f}", file=sys.stderr)
        rows["index directory"] = _search(str(index), qfile, len(queries))
        for name in stores:
            with (temp_postgres() if name == "postgresql" and not args.pg_uri else
                  temp_moto() if name == "dynamodb" else _given(name, args, work)) as uri:
                load = os.getloadavg()[0]
                pub = timed_run([PY, "-m", "invindex", "-q", "publish", str(index), uri,
                                 "--replace"])
                rows[name] = {"load": load, "publish_s": pub["wall_s"],
                              "publish_cpu_s": pub["cpu_s"],
                              "publish_mb_s": index_mb / pub["wall_s"],
                              "x_build": pub["wall_s"] / rows["build"]["wall_s"],
                              "x_build_cpu": pub["cpu_s"] / rows["build"]["cpu_s"],
                              **_search(uri, qfile, len(queries))}
                print(f"  {name}: publish {pub['wall_s']:.1f} s "
                      f"({rows[name]['x_build']:.2f}x the build), search p95 "
                      f"{rows[name]['p95_ms']:.1f} ms, load {load:.1f}", file=sys.stderr)
        base = rows["index directory"].pop("results")
        for name in stores:
            rows[name]["same"] = rows[name].pop("results") == base
        rows["build"]["index_mb"] = index_mb
        rows["build"]["load_end"] = os.getloadavg()[0]
        rounds.append(rows)
    med = {label: {m: statistics.median(r[label][m] for r in rounds)
                   for m in rounds[0][label] if m != "same"} for label in rounds[0]}
    b = med["build"]
    print(f"\n{corpus.name}: index {b['index_mb']:.0f} MB; medians of {len(rounds)} rounds; "
          f"build {b['wall_s']:.1f} s wall ({b['cpu_s']:.1f} s CPU); {len(queries)} queries, "
          f"top 10, warm pass; load average {min(r['build']['load'] for r in rounds):.1f}-"
          f"{max(r['build']['load_end'] for r in rounds):.1f}\n")
    header = (f"{'where':<16} {'publish s':>9} {'cpu s':>6} {'MB/s':>6} {'x build':>7} "
              f"{'x cpu':>6} {'open s':>7} {'QPS':>6} {'p50 ms':>7} {'p95 ms':>7} "
              f"{'p99 ms':>7} {'cpu p95':>7} same")
    print(header)
    print("-" * len(header))
    for label, r in med.items():
        if label == "build":
            continue
        pub = (f"{r['publish_s']:>9.1f} {r['publish_cpu_s']:>6.1f} {r['publish_mb_s']:>6.2f} "
               f"{r['x_build']:>7.2f} {r['x_build_cpu']:>6.2f}" if "publish_s" in r else
               f"{'-':>9} {'-':>6} {'-':>6} {'-':>7} {'-':>6}")
        same = "" if label == "index directory" else (
            "yes" if all(x[label]["same"] for x in rounds) else "NO")
        print(f"{label:<16} {pub} {r['open_s']:>7.2f} {r['qps']:>6.0f} {r['p50_ms']:>7.2f} "
              f"{r['p95_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['cpu_p95_ms']:>7.2f} {same}")
    for label in stores:
        print(f"{label}: x build per round "
              + ", ".join(f"{r[label]['x_build']:.2f}" for r in rounds), file=sys.stderr)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({
        "corpus": corpus.name, "queries": len(queries), "median": med, "rounds": rounds},
        indent=2))
    print(f"figures: {args.json}", file=sys.stderr)


def _search(location: str, qfile: Path, count: int) -> Dict:
    """One process: open ``location``, a warm-up pass, then the timed pass."""
    out = subprocess.run([PY, __file__, "worker", location, str(qfile)], check=True,
                         capture_output=True, text=True)
    r = json.loads(out.stdout)
    return {"open_s": r["open_s"], "qps": count / r["total_s"],
            "p50_ms": pct(r["latencies_ms"], 50), "p95_ms": pct(r["latencies_ms"], 95),
            "p99_ms": pct(r["latencies_ms"], 99), "cpu_p95_ms": pct(r["cpu_ms"], 95),
            "results": r["results"]}


@contextmanager
def _given(name: str, args, work: Path) -> Iterator[str]:
    if name == "sqlite":
        path = work / "stores-bench.db"
        for p in work.glob("stores-bench.db*"):
            p.unlink()
        yield f"sqlite://{path.resolve()}"
    elif name == "postgresql":
        yield args.pg_uri
    else:
        raise SystemExit(f"unknown store {name} (sqlite, postgresql, dynamodb)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker(*sys.argv[2:4])
    else:
        raise SystemExit("run it through scripts/benchmark.py --stores")
