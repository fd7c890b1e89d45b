"""CPU time of the streaming scripts beside the tutorial's (``benchmark.py --streaming``).

What a cluster bills is CPU time, and this machine is shared and loaded, so each script
runs alone on a file (not in a pipe) and is charged its process's user + system time
(``resource.getrusage(RUSAGE_CHILDREN)``), not wall time. The sort between map and
reduce (``LC_ALL=C sort``) is run but not counted. Every run alternates our scripts and
the tutorial's, so the ratio compares like with like; figures are medians.

The scripts run in the environment a Hadoop task gives them: without
``PYTHONUNBUFFERED`` (``--inherit-env`` keeps this shell's), which would make the
tutorial's mapper, a ``print`` per word, pay one ``write`` system call per word.
``--before DIR`` adds the scripts of another checkout (``git worktree add DIR REV``)
to the same runs, for before/after figures. ``--floor`` adds what the contracts alone
cost (``FLOORS``): the analyzer's regex over the lowered text, writing the mapper's
lines, and the reducer reading, splitting and writing its lines, each a program of a
few C-level calls per 64 KB block, so that the figures show how far from one third of
the tutorial's CPU the scripts could get at all within DESIGN.md's formats.

    python scripts/streaming_cpu.py bench-out/real-50mb.tsv --runs 3 --before ../old
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

HERE = Path(__file__).resolve().parent
PY = sys.executable
# name -> (mapper, reducer, the checkout the scripts import invindex from, or None)
SCRIPTS: Dict[str, Tuple[Path, Path, Path | None]] = {
    "invindex": (HERE / "mapper.py", HERE / "reducer.py", HERE.parent),
    "tutorial": (HERE / "baseline" / "tutorial_mapper.py",
                 HERE / "baseline" / "tutorial_reducer.py", None),
}


# The floors: programs that do only what DESIGN.md's contracts require, each on stdin
# (the corpus, the mapper's output, or its sorted output), a 64 KB block at a time.
_BLOCKS = """
import sys
def blocks():
    held = b""
    read = sys.stdin.buffer.read
    while True:
        data = read(1 << 16)
        if not data:
            if held:
                yield held
            return
        cut = data.rfind(b"\\n") + 1
        yield held + data[:cut]
        held = data[cut:]
"""
# The fourth is not a floor of the contracts but of Python: the least per-token work
# any pure-Python mapper does, the cheapest grouping found (a dict look-up per token; a
# term seen once keeps its position, a list only for a repeated one: the mapper's own,
# ``analysis._group_singles``). Grouping by C-level passes (``dict.setdefault`` mapped,
# repeats found by identity, sorting) measured dearer.
FLOORS: Dict[str, Tuple[str, str]] = {  # name -> (its input, the program)
    "map: read, decode, split records": ("corpus", _BLOCKS + """
for b in blocks():
    [line.partition("\\t") for line in b.decode().split("\\n")]
"""),
    "map: + lower + the analyzer's regex": ("corpus", _BLOCKS + """
import re
findall = re.compile(r"[^\\W_]+").findall
for b in blocks():
    for line in b.decode().split("\\n"):
        findall(line.partition("\\t")[2].lower())
"""),
    "map: + tokens by translate + split if ASCII": ("corpus", _BLOCKS + """
import re
findall = re.compile(r"[^\\W_]+").findall
table = str.maketrans({c: chr(c).lower() if chr(c).isalnum() or c == 10 else " "
                       for c in range(128)})
for b in blocks():
    texts = [line.partition("\\t")[2] for line in b.decode().split("\\n")]
    joined = "\\n".join(texts)
    if joined.isascii():
        list(map(str.split, joined.translate(table).split("\\n")))
    else:
        list(map(findall, map(str.lower, texts)))
"""),
    "map: + positions grouped by term (a dict a record)": ("corpus", _BLOCKS + """
import re
findall = re.compile(r"[^\\W_]+").findall
table = str.maketrans({c: chr(c).lower() if chr(c).isalnum() or c == 10 else " "
                       for c in range(128)})
numbers = [str(i) for i in range(1 << 14)]
for b in blocks():
    texts = [line.partition("\\t")[2] for line in b.decode().split("\\n")]
    joined = "\\n".join(texts)
    if joined.isascii():
        lists = map(str.split, joined.translate(table).split("\\n"))
    else:
        lists = map(findall, map(str.lower, texts))
    for toks in lists:
        tp = {}
        for i, tok in zip(numbers, toks):
            if tok in tp:
                ps = tp[tok]
                if ps.__class__ is list:
                    ps.append(i)
                else:
                    tp[tok] = [ps, i]
            else:
                tp[tok] = i
"""),
    "map: write its lines (decode, encode, write)": ("mapped", _BLOCKS + """
out = sys.stdout.write
for b in blocks():
    out(b.decode())
"""),
    "reduce: read, split fields, write as many bytes": ("sorted", _BLOCKS + """
out = sys.stdout.write
for b in blocks():
    out("".join(b.decode().replace("\\n", "\\t").split("\\t")))
"""),
}


def floor_run(corpus: Path, work: Path) -> Dict[str, float]:
    """The floors' CPU seconds, on the corpus and on our mapper's (sorted) output."""
    mapped, ordered = work / "floor.map", work / "floor.sorted"
    env = script_env(SCRIPTS["invindex"][2])
    subprocess.run([PY, str(SCRIPTS["invindex"][0])], stdin=corpus.open("rb"),
                   stdout=mapped.open("wb"), stderr=subprocess.DEVNULL, env=env, check=True)
    c_sort(mapped, ordered)
    inputs = {"corpus": corpus, "mapped": mapped, "sorted": ordered}
    try:
        return {name: cpu_seconds([PY, "-c", code], inputs[src], Path(os.devnull), env)
                for name, (src, code) in FLOORS.items()}
    finally:
        mapped.unlink()
        ordered.unlink()


def script_env(checkout: Path | None, inherit: bool = False) -> Dict[str, str]:
    """A cluster task's environment: no PYTHONUNBUFFERED (unless ``inherit``), and
    PYTHONPATH at the checkout whose ``invindex`` the scripts import."""
    env = dict(os.environ)
    if not inherit:
        env.pop("PYTHONUNBUFFERED", None)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    return env


def cpu_seconds(cmd: List[str], src: Path, dst: Path,
                env: Dict[str, str] | None = None) -> float:
    """User + system CPU seconds of ``cmd < src > dst``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        subprocess.run(cmd, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, check=True,
                       env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def c_sort(src: Path, dst: Path) -> None:
    env = dict(os.environ, LC_ALL="C")
    with open(dst, "wb") as fout:
        subprocess.run(["sort", "-S", "512M", str(src)], stdout=fout, env=env, check=True)


def one_run(corpus: Path, work: Path, scripts: Dict[str, tuple],
            inherit: bool = False) -> Dict[str, Dict[str, float]]:
    out: Dict[str, Dict[str, float]] = {}
    for name, (mapper, reducer, checkout) in scripts.items():
        env = script_env(checkout, inherit)
        mapped, ordered = work / f"{name}.map", work / f"{name}.sorted"
        m = cpu_seconds([PY, str(mapper)], corpus, mapped, env)
        c_sort(mapped, ordered)
        mapped.unlink()
        r = cpu_seconds([PY, str(reducer)], ordered, work / f"{name}.out", env)
        ordered.unlink()
        (work / f"{name}.out").unlink()
        out[name] = {"mapper_cpu_s": m, "reducer_cpu_s": r}
    return out


def run(corpora: List[Path], runs: int, work: Path, json_path: Path,
        before: Path | None = None, inherit: bool = False, floor: bool = False) -> None:
    scripts = dict(SCRIPTS)
    if before is not None:
        before = before.resolve()
        scripts["before"] = (before / "scripts" / "mapper.py",
                             before / "scripts" / "reducer.py", before)
    results = []
    for corpus in corpora:
        mb = corpus.stat().st_size / 1e6
        per_run = []
        for i in range(runs):
            r = one_run(corpus, work, scripts, inherit)
            if floor:
                r["floor"] = floor_run(corpus, work)
            per_run.append(r)
            print(f"  {corpus.name} run {i + 1}: " + ", ".join(
                f"{k} map {v['mapper_cpu_s']:.2f} s reduce {v['reducer_cpu_s']:.2f} s"
                for k, v in r.items() if k != "floor"), file=sys.stderr)
        row: Dict[str, object] = {"corpus": corpus.name, "input_mb": round(mb, 2),
                                  "runs": per_run}
        for name in scripts:
            for part in ("mapper_cpu_s", "reducer_cpu_s"):
                row[f"{name}_{part}"] = statistics.median(r[name][part] for r in per_run)
            totals = [r[name]["mapper_cpu_s"] + r[name]["reducer_cpu_s"] for r in per_run]
            row[f"{name}_total_cpu_s"] = statistics.median(totals)
            row[f"{name}_cpu_s_per_mb"] = row[f"{name}_total_cpu_s"] / mb
        # the ratio of each run (same load), then its median
        for name in scripts:
            row[f"{name}_cpu_ratio_vs_tutorial"] = statistics.median(
                (r[name]["mapper_cpu_s"] + r[name]["reducer_cpu_s"])
                / (r["tutorial"]["mapper_cpu_s"] + r["tutorial"]["reducer_cpu_s"])
                for r in per_run)
        row["cpu_ratio_vs_tutorial"] = row["invindex_cpu_ratio_vs_tutorial"]
        if floor:
            row["floor_cpu_s"] = {name: statistics.median(r["floor"][name] for r in per_run)
                                  for name in FLOORS}
            for key, grouped in (("floor", False), ("python_floor", True)):
                row[f"{key}_ratio_vs_tutorial"] = statistics.median(
                    floor_total(r["floor"], grouped) / (
                        r["tutorial"]["mapper_cpu_s"] + r["tutorial"]["reducer_cpu_s"])
                    for r in per_run)
        results.append(row)
    print(f"{'corpus':<24} {'scripts':<9} {'map CPU s':>9} {'reduce CPU s':>12} "
          f"{'CPU s/MB':>8} {'x tutorial CPU':>14}")
    for row in results:
        for name in scripts:
            ratio = f"{row[f'{name}_cpu_ratio_vs_tutorial']:.2f}"
            print(f"{row['corpus']:<24} {name:<9} {row[f'{name}_mapper_cpu_s']:>9.2f} "
                  f"{row[f'{name}_reducer_cpu_s']:>12.2f} {row[f'{name}_cpu_s_per_mb']:>8.3f} "
                  f"{ratio:>14}")
    for row in results:
        if "floor_cpu_s" in row:
            print(f"floor ({row['corpus']}, what the contracts alone cost, medians):")
            for name, cpu in row["floor_cpu_s"].items():
                print(f"  {name:<52} {cpu:6.2f} s")
            print(f"  tokens (the cheaper) + writing the map lines + the reduce I/O: "
                  f"{row['floor_ratio_vs_tutorial']:.2f} x the tutorial's CPU (target 0.33)")
            print(f"  the same with the grouping instead of the tokens alone: "
                  f"{row['python_floor_ratio_vs_tutorial']:.2f} x")
    meta = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "runs": runs,
            "measure": "user+sys CPU of each script process (getrusage), sort excluded",
            "environment": "inherited" if inherit else "without PYTHONUNBUFFERED",
            "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"figures: {json_path}", file=sys.stderr)


def floor_total(floor: Dict[str, float], grouped: bool = False) -> float:
    """The least any mapper and reducer within the contracts cost: tokenizing (the
    cheaper way, with reading the records), writing the map lines, the reduce I/O; with
    ``grouped``, the tokens' grouping by term (Python's least per token) too."""
    names = list(FLOORS)
    tokens = floor[names[3]] if grouped else min(floor[names[1]], floor[names[2]])
    return tokens + floor[names[4]] + floor[names[5]]


def main(argv: List[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("corpus", nargs="+", type=Path, help="doc_id<TAB>text files")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--before", type=Path, help="a checkout whose scripts to add")
    p.add_argument("--inherit-env", action="store_true",
                   help="run the scripts in this shell's environment as it is")
    p.add_argument("--floor", action="store_true",
                   help="add the floors: what the contracts alone cost (FLOORS)")
    p.add_argument("--work", type=Path, default=Path("bench-out"))
    p.add_argument("--json", type=Path, default=Path("bench-out/streaming.json"))
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    run(args.corpus, args.runs, args.work, args.json, args.before, args.inherit_env,
        args.floor)


if __name__ == "__main__":
    main()
