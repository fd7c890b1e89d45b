#!/usr/bin/env python3
"""A bounded load run of ``invindex serve`` on loopback: errors, latency, requests/s.

Starts ``invindex serve INDEX --port 0`` (a free loopback port), then ``--clients``
threads each send ``--requests`` GETs over one keep-alive connection, alternating the
JSON API (``/api/search``) and the results page (``/?q=``) over a list of queries.
Any answer other than 200, or a failed connection, counts as an error. The clients run
in this process (threads, one GIL): on a small machine they share its cores with the
server, so read the figures as a floor. Also reached as ``benchmark.py --serve INDEX``.

    python scripts/loadtest.py sample-index --clients 16 --requests 100
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
QUERIES = ["light", "light darkness", '"the lord"', "+god -heaven", "(day OR night) AND light",
           "love", "water earth", "king", "+said +unto", "life death", "spirit", "zebra"]


def start_server(index: str, workers: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in [str(REPO), os.environ.get("PYTHONPATH", "")] if p)}
    proc = subprocess.Popen([sys.executable, "-m", "invindex", "serve", index, "--port", "0",
                             "--workers", str(workers)], stdout=subprocess.PIPE, text=True,
                            env=env)
    line = proc.stdout.readline()
    if "serving on" not in line:
        proc.kill()
        raise SystemExit(f"invindex serve did not start: {line!r}")
    return proc, line.split()[-1]


def client(url: str, n: int, offset: int, latencies: List[float], errors: List[str]) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    for i in range(n):
        q = QUERIES[(offset + i) % len(QUERIES)]
        path = ("/api/search?" if i % 2 == 0 else "/?") + urlencode({"q": q})
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(f"{resp.status} {path}")
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{type(e).__name__} {path}")
            conn.close()
        latencies.append(time.perf_counter() - t0)
    conn.close()


def run(index: str, clients: int, requests: int, workers: int) -> Dict[str, float]:
    proc, url = start_server(index, workers)
    try:
        latencies: List[float] = []
        errors: List[str] = []
        threads = [threading.Thread(target=client, args=(url, requests, c, latencies, errors))
                   for c in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    return {"clients": clients, "requests": len(ms), "errors": len(errors),
            "workers": workers, "wall_s": round(wall, 3),
            "requests_per_s": round(len(ms) / wall, 1), "p50_ms": round(q[49], 2),
            "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2), "max_ms": round(ms[-1], 2)}


def report(r: Dict[str, float]) -> str:
    return (f"{r['clients']} clients x {r['requests'] // r['clients']} requests "
            f"(server: {r['workers']} threads): {r['errors']} errors, "
            f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, "
            f"{r['requests_per_s']} requests/s over {r['wall_s']} s")


def main(argv: List[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("index", help="an index directory (or any SOURCE invindex serve takes)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--requests", type=int, default=100, help="per client")
    p.add_argument("--workers", type=int, default=4, help="server threads")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    result = run(args.index, args.clients, args.requests, args.workers)
    print(report(result))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
