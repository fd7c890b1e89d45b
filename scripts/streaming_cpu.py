"""CPU time of the streaming scripts beside the tutorial's (``benchmark.py --streaming``).

What a cluster bills is CPU time, and this machine is shared and loaded, so each script
runs alone on a file (not in a pipe) and is charged its process's user + system time
(``resource.getrusage(RUSAGE_CHILDREN)``), not wall time. The sort between map and
reduce (``LC_ALL=C sort``) is run but not counted. Every run alternates our scripts and
the tutorial's, so the ratio compares like with like; figures are medians.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
PY = sys.executable
SCRIPTS = {
    "invindex": (HERE / "mapper.py", HERE / "reducer.py"),
    "tutorial": (HERE / "baseline" / "tutorial_mapper.py",
                 HERE / "baseline" / "tutorial_reducer.py"),
}


def cpu_seconds(cmd: List[str], src: Path, dst: Path) -> float:
    """User + system CPU seconds of ``cmd < src > dst``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        subprocess.run(cmd, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def c_sort(src: Path, dst: Path) -> None:
    env = dict(os.environ, LC_ALL="C")
    with open(dst, "wb") as fout:
        subprocess.run(["sort", "-S", "512M", str(src)], stdout=fout, env=env, check=True)


def one_run(corpus: Path, work: Path) -> Dict[str, Dict[str, float]]:
    out: Dict[str, Dict[str, float]] = {}
    for name, (mapper, reducer) in SCRIPTS.items():
        mapped, ordered = work / f"{name}.map", work / f"{name}.sorted"
        m = cpu_seconds([PY, str(mapper)], corpus, mapped)
        c_sort(mapped, ordered)
        mapped.unlink()
        r = cpu_seconds([PY, str(reducer)], ordered, work / f"{name}.out")
        ordered.unlink()
        (work / f"{name}.out").unlink()
        out[name] = {"mapper_cpu_s": m, "reducer_cpu_s": r}
    return out


def run(corpora: List[Path], runs: int, work: Path, json_path: Path) -> None:
    results = []
    for corpus in corpora:
        mb = corpus.stat().st_size / 1e6
        per_run = []
        for i in range(runs):
            r = one_run(corpus, work)
            per_run.append(r)
            print(f"  {corpus.name} run {i + 1}: " + ", ".join(
                f"{k} map {v['mapper_cpu_s']:.2f} s reduce {v['reducer_cpu_s']:.2f} s"
                for k, v in r.items()), file=sys.stderr)
        row: Dict[str, object] = {"corpus": corpus.name, "input_mb": round(mb, 2),
                                  "runs": per_run}
        for name in SCRIPTS:
            for part in ("mapper_cpu_s", "reducer_cpu_s"):
                row[f"{name}_{part}"] = statistics.median(r[name][part] for r in per_run)
            totals = [r[name]["mapper_cpu_s"] + r[name]["reducer_cpu_s"] for r in per_run]
            row[f"{name}_total_cpu_s"] = statistics.median(totals)
            row[f"{name}_cpu_s_per_mb"] = row[f"{name}_total_cpu_s"] / mb
        # the ratio of each run (same load), then its median
        row["cpu_ratio_vs_tutorial"] = statistics.median(
            (r["invindex"]["mapper_cpu_s"] + r["invindex"]["reducer_cpu_s"])
            / (r["tutorial"]["mapper_cpu_s"] + r["tutorial"]["reducer_cpu_s"])
            for r in per_run)
        results.append(row)
    print(f"{'corpus':<24} {'scripts':<9} {'map CPU s':>9} {'reduce CPU s':>12} "
          f"{'CPU s/MB':>8} {'x tutorial CPU':>14}")
    for row in results:
        for name in SCRIPTS:
            ratio = f"{row['cpu_ratio_vs_tutorial']:.2f}" if name == "invindex" else "1.00"
            print(f"{row['corpus']:<24} {name:<9} {row[f'{name}_mapper_cpu_s']:>9.2f} "
                  f"{row[f'{name}_reducer_cpu_s']:>12.2f} {row[f'{name}_cpu_s_per_mb']:>8.3f} "
                  f"{ratio:>14}")
    meta = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "runs": runs,
            "measure": "user+sys CPU of each script process (getrusage), sort excluded",
            "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"figures: {json_path}", file=sys.stderr)
