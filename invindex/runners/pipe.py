"""``--runner pipe``: the streaming scripts as real processes, as Hadoop would run them.

For each input file, ``mapper.py`` reads it (``gzip -dc``/``bzip2 -dc`` first for
compressed files) and writes its intermediate lines to a scratch file; up to ``jobs``
mappers run at once. Then ``LC_ALL=C sort`` merges them into ``reducer.py``, which
writes the single part. Counters come back through stderr, as in Hadoop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

from ..core import counters, indexfmt
from ..errors import InvindexError
from ..inputs import compression_of, decompress_failed
from .base import BuildRequest, BuildResult
from .fast_plan import RECORD_MEMORY_PER_BYTE
from .pipewatch import sort_and_reduce

REPO_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
MAPPER_BASE_MB = 30  # a mapper's interpreter


def script_command(role: str) -> List[str]:
    """How to start the mapper/reducer: the checkout's script, else the same code via -m."""
    script = REPO_SCRIPTS / f"{role}.py"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", f"invindex.core.stream_{role}"]


def _decompressor(path: Path) -> List[str] | None:
    """The tool that decompresses ``path``, chosen by its content (magic bytes)."""
    tool = compression_of(path)
    if tool is None:
        return None
    if shutil.which(tool) is None:
        raise InvindexError(f"`{tool}` is needed to read {path} with --runner pipe")
    return [tool, "-dc", str(path)]


def max_record_bytes(req: BuildRequest) -> int:
    """The longest record a mapper may read: its share of ``--memory`` (mappers run
    ``jobs`` at a time, before the sort), over what a record costs to invert."""
    share = (req.memory_mb << 20) // max(1, req.jobs) - (MAPPER_BASE_MB << 20)
    return max(1 << 20, share // RECORD_MEMORY_PER_BYTE)


def _last_error(stderr: str, default: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln and not ln.startswith("reporter:")]
    last = lines[-1] if lines else default
    return last.removeprefix("mapper.py: error: ")  # said as the other runners say it


def _run_mapper(req: BuildRequest, i: int, path: Path) -> Tuple[Path, str]:
    out_path = req.workdir / f"map-{i:05d}"
    cmd = script_command("mapper") + req.analyzer.to_args() + [
        "--source", str(path), "--max-record-bytes", str(max_record_bytes(req))]
    if req.strict:
        cmd.append("--strict")
    decompress = _decompressor(path)
    with open(out_path, "wb") as out:
        if decompress is None:
            with open(path, "rb") as src:
                proc = subprocess.run(cmd, stdin=src, stdout=out, stderr=subprocess.PIPE)
            feeder_rc = 0
        else:
            feeder = subprocess.Popen(decompress, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
            proc = subprocess.run(cmd, stdin=feeder.stdout, stdout=out, stderr=subprocess.PIPE)
            feeder.stdout.close()  # type: ignore[union-attr]
            feeder_rc = feeder.wait()
            if feeder_rc != 0 and proc.returncode == 0:
                msg = feeder.stderr.read().decode(errors="replace").strip()  # type: ignore
                raise decompress_failed(path, (msg.splitlines() or ["failed"])[0])
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise InvindexError(_last_error(err, f"mapper failed on {path} "
                                             f"(exit {proc.returncode})"))
    if req.on_progress:
        req.on_progress(path.stat().st_size)
    return out_path, err


def run(req: BuildRequest) -> BuildResult:
    req.workdir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(1, req.jobs)) as pool:
        results = list(pool.map(lambda ip: _run_mapper(req, *ip), enumerate(req.inputs)))
    totals: Dict[str, int] = {}
    notes: List[str] = []
    for _, err in results:
        counts, other = counters.parse_stderr(err.splitlines())
        counters.add(totals, counts)
        notes.extend(ln[len(counters.NOTE_PREFIX):] for ln in other
                     if ln.startswith(counters.NOTE_PREFIX))

    env = dict(os.environ, LC_ALL="C")
    sort_cmd = ["sort", "-T", str(req.workdir), "-S", f"{max(req.memory_mb // 2, 16)}M",
                f"--parallel={max(1, req.jobs)}"] + [str(p) for p, _ in results]
    part = req.staging / indexfmt.part_name(0)
    with open(part, "wb") as out:
        sorter = subprocess.Popen(sort_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env)
        with sort_and_reduce(req.on_progress, sorter.pid, part,
                             sum(p.stat().st_size for p, _ in results)):
            reducer = subprocess.run(script_command("reducer"), stdin=sorter.stdout,
                                     stdout=out, stderr=subprocess.PIPE)
        sorter.stdout.close()  # type: ignore[union-attr]
        sort_err = sorter.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
        if sorter.wait() != 0:
            raise InvindexError(f"sort failed: {sort_err.strip()}")
    err = reducer.stderr.decode("utf-8", "replace")
    if reducer.returncode != 0:
        raise InvindexError(_last_error(err, f"reducer failed (exit {reducer.returncode})"))
    counters.add(totals, counters.parse_stderr(err.splitlines())[0])
    return BuildResult(totals, {"scheme": indexfmt.SINGLE, "num_parts": 1}, notes)
