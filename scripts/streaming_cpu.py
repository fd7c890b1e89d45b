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
to the same runs, for before/after figures.

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
        before: Path | None = None, inherit: bool = False) -> None:
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
            per_run.append(r)
            print(f"  {corpus.name} run {i + 1}: " + ", ".join(
                f"{k} map {v['mapper_cpu_s']:.2f} s reduce {v['reducer_cpu_s']:.2f} s"
                for k, v in r.items()), file=sys.stderr)
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
        results.append(row)
    print(f"{'corpus':<24} {'scripts':<9} {'map CPU s':>9} {'reduce CPU s':>12} "
          f"{'CPU s/MB':>8} {'x tutorial CPU':>14}")
    for row in results:
        for name in scripts:
            ratio = f"{row[f'{name}_cpu_ratio_vs_tutorial']:.2f}"
            print(f"{row['corpus']:<24} {name:<9} {row[f'{name}_mapper_cpu_s']:>9.2f} "
                  f"{row[f'{name}_reducer_cpu_s']:>12.2f} {row[f'{name}_cpu_s_per_mb']:>8.3f} "
                  f"{ratio:>14}")
    meta = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "runs": runs,
            "measure": "user+sys CPU of each script process (getrusage), sort excluded",
            "environment": "inherited" if inherit else "without PYTHONUNBUFFERED",
            "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"figures: {json_path}", file=sys.stderr)


def main(argv: List[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("corpus", nargs="+", type=Path, help="doc_id<TAB>text files")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--before", type=Path, help="a checkout whose scripts to add")
    p.add_argument("--inherit-env", action="store_true",
                   help="run the scripts in this shell's environment as it is")
    p.add_argument("--work", type=Path, default=Path("bench-out"))
    p.add_argument("--json", type=Path, default=Path("bench-out/streaming.json"))
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    run(args.corpus, args.runs, args.work, args.json, args.before, args.inherit_env)


if __name__ == "__main__":
    main()
