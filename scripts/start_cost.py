"""What starting a process costs: the CLI's commands and the streaming scripts (issue 18).

Every ``invindex build`` pays the CLI's imports before the engine starts, and every
Hadoop task pays the streaming script's: on a short input, start is most of the work.
Each case runs as its own process and is charged its CPU time (user + system, from
``os.wait4``, the machine being shared) and its wall time; with ``--before DIR`` (another
checkout, e.g. ``git worktree add DIR REV``) each run does both checkouts alternately,
so that the ratio compares like with like under the same load; figures are medians.
``--instructions`` counts the user-space instructions of one run of each instead,
child processes included (valgrind's callgrind; the same whatever the load,
``PYTHONHASHSEED=0``).

The streaming scripts run as on a node: a Python 3.9 (the python3 of EMR nodes; else
this one), isolated (``-I``: no site-packages, no ``PYTHONPATH``), without
``PYTHONUNBUFFERED``, on empty input; ``files`` imports the checkout's modules (cached
bytecode), ``zip`` the ``invindex.zip`` a cluster job ships (compiled at every start:
zipimport writes no bytecode).

    python scripts/start_cost.py --runs 7 --before ../before
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_data" / "docs.tsv"
# Every process starts here: `python -m invindex` puts its working directory first on
# sys.path, and in a checkout that would shadow the one PYTHONPATH names.
CWD = tempfile.gettempdir()


def _python39() -> str:
    """A Python 3.9's own executable (not a pyenv shim, a shell script), else this one."""
    for cand in ("python3.9", str(Path.home() / ".pyenv/versions/3.9.18/bin/python3.9")):
        path = shutil.which(cand) or (cand if Path(cand).exists() else None)
        if path:
            found = subprocess.run([path, "-c", "import sys; print(sys.executable)"],
                                   capture_output=True, text=True)
            if found.returncode == 0 and found.stdout.strip():
                return found.stdout.strip()
    return sys.executable


def _cases(checkout: Path, work: Path, node_py: str) -> Dict[str, Tuple[List[str], dict]]:
    """name -> (argv, environment) of each case for one checkout; ``work`` is its own
    scratch directory (the index the lookups read, the shipped scripts)."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    cli = [sys.executable, "-m", "invindex"]
    index = work / "index"
    if not (index / "_SUCCESS").exists():
        subprocess.run(cli + ["-q", "build", str(SAMPLE), "-o", str(index)], env=env,
                       cwd=CWD, check=True)
        subprocess.run([sys.executable, "-c", "from invindex.runners.package import "
                        f"write_streaming_files as w; w({str(work / 'node')!r})"],
                       env=env, cwd=CWD, check=True)
    node = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {
        "invindex --help": (cli + ["--help"], env),
        "invindex build --help": (cli + ["build", "--help"], env),
        "invindex -q build (sample, fast)": (
            cli + ["-q", "build", str(SAMPLE), "-o", str(work / "out"), "--overwrite"], env),
        "invindex lookup": (cli + ["lookup", str(index), "the"], env),
        "invindex search": (cli + ["search", str(index), "the quick"], env),
        "mapper.py (files)": ([node_py, "-I", str(checkout / "scripts/mapper.py")], node),
        "reducer.py (files)": ([node_py, "-I", str(checkout / "scripts/reducer.py")], node),
        "mapper.py (zip)": ([node_py, "-I", str(work / "node/mapper.py")], node),
        "reducer.py (zip)": ([node_py, "-I", str(work / "node/reducer.py")], node),
    }


def _run(argv: List[str], env: dict) -> Tuple[float, float]:
    """One run: (CPU seconds, wall seconds)."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=CWD, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # lookup: 1 when a term is absent
        raise SystemExit(f"failed: {' '.join(argv)}")
    return usage.ru_utime + usage.ru_stime, wall


def _instructions(argv: List[str], env: dict, work: Path) -> float:
    """User-space instructions (millions) of one run, its child processes' included
    (forked or started: a build's workers), counted by callgrind."""
    out = work / "callgrind"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes",
                    f"--callgrind-out-file={out}/%p", *argv],
                   env=dict(env, PYTHONHASHSEED="0"), cwd=CWD, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = 0
    for path in out.iterdir():
        total += next(int(line.split()[1]) for line in path.read_text().splitlines()
                      if line.startswith(("summary:", "totals:")))
    if not total:
        raise SystemExit(f"no callgrind totals for {' '.join(argv)}")
    return total / 1e6


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="runs of each case (default 7)")
    p.add_argument("--before", type=Path, help="another checkout, measured alternately")
    p.add_argument("--instructions", action="store_true",
                   help="count instructions (valgrind) instead of timing, one run each")
    p.add_argument("--only", help="only the cases whose name contains this")
    args = p.parse_args(argv)
    checkouts = {"now": HERE.parent}
    if args.before:
        checkouts = {"before": args.before.resolve(), **checkouts}
    node_py = _python39()
    print(f"load average {os.getloadavg()[0]:.2f}; node python {node_py}; "
          f"{'instructions' if args.instructions else f'{args.runs} runs, medians'}")
    with tempfile.TemporaryDirectory(prefix="start-cost-") as tmp:
        cases = {name: _cases(path, Path(tmp) / name, node_py)
                 for name, path in checkouts.items()}
        names = [n for n in cases["now"] if not args.only or args.only in n]
        if args.instructions:
            print(f"{'case':34}" + "".join(f"{c + ' M instr':>18}" for c in checkouts))
            for case in names:
                row = [_instructions(*cases[c][case], Path(tmp)) for c in checkouts]
                ratio = f"{row[1] / row[0]:8.2f}x" if len(row) == 2 else ""
                print(f"{case:34}" + "".join(f"{v:18,.1f}" for v in row) + ratio)
            return 0
        results: Dict[Tuple[str, str], List[Tuple[float, float]]] = {}
        for _ in range(args.runs):
            for case in names:
                for c in checkouts:
                    results.setdefault((c, case), []).append(_run(*cases[c][case]))
        head = "".join(f"{c + ' CPU s':>13}{c + ' wall s':>14}" for c in checkouts)
        print(f"{'case':34}{head}" + ("   CPU ratio" if len(checkouts) > 1 else ""))
        for case in names:
            cpu = [statistics.median(r[0] for r in results[(c, case)]) for c in checkouts]
            wall = [statistics.median(r[1] for r in results[(c, case)]) for c in checkouts]
            line = "".join(f"{a:13.3f}{w:14.3f}" for a, w in zip(cpu, wall, strict=True))
            if len(cpu) == 2:
                ratios = [n[0] / b[0] for b, n in zip(results[("before", case)],
                                                        results[("now", case)], strict=True)]
                line += f"{statistics.median(ratios):11.2f}x"
            print(f"{case:34}{line}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
