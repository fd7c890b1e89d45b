"""A small stand-in for Hadoop streaming, to run the exact arguments a runner submitted.

No Hadoop can be installed here, and moto / the Dataproc tests never run a step. This
takes the argument list of a streaming step (``-D``, ``-files``, ``-input``, ``-output``,
``-mapper``, ``-combiner``, ``-reducer``, ``-partitioner``) and does what Hadoop would:
each shipped file copied into a fresh, otherwise empty task directory under its link
name; every input file through the mapper command (``sh -c``, as Hadoop runs it, with
``mapreduce_map_input_file`` set); map output keyed on the first
``stream.num.map.output.key.fields`` fields, combined, partitioned on the first field by
``KeyFieldBasedPartitioner``'s hash, sorted as bytes; one reducer per partition. Tasks
run with ``python3`` bound to ``python3 -S`` (Python 3.9 when there is one: the python3
of EMR 7 nodes), so nothing installed on this machine can stand in for the shipped files.

What it does not model: splits, speculative execution, retries, real spill/merge, and
Hadoop's exact jobconf handling beyond the options named above.
"""

from __future__ import annotations

import bz2
import gzip
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from invindex.core import indexfmt

KFP = "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"


@dataclass
class StreamingStep:
    conf: Dict[str, str] = field(default_factory=dict)
    files: List[Tuple[str, str]] = field(default_factory=list)  # (uri, link name)
    inputs: List[str] = field(default_factory=list)
    output: str = ""
    mapper: str = ""
    combiner: str | None = None
    reducer: str | None = None
    partitioner: str | None = None


def parse(args: List[str]) -> StreamingStep:
    s = StreamingStep()
    it = iter(args)
    for a in it:
        if a == "-D":
            k, _, v = next(it).partition("=")
            s.conf[k] = v
        elif a == "-files":
            for f in next(it).split(","):
                uri, _, name = f.partition("#")
                s.files.append((uri, name or uri.rsplit("/", 1)[-1]))
        elif a == "-input":
            s.inputs.append(next(it))
        elif a in ("-output", "-mapper", "-combiner", "-reducer", "-partitioner"):
            setattr(s, a[1:], next(it))
        else:
            raise ValueError(f"unexpected streaming argument {a!r}")
    return s


def python_shim(bin_dir: Path, python: str | None = None) -> Path:
    """A ``python3`` that is ``python3.9 -S`` (or this Python with -S)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "python3"
    shim.write_text(f'#!/bin/sh\nexec {python or sys.executable} -S "$@"\n')
    shim.chmod(0o755)
    return shim


def _decompress(name: str, data: bytes) -> bytes:
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".bz2"):
        return bz2.decompress(data)
    return data


def _sh(cmd: str, data: bytes, cwd: Path, env: Dict[str, str]) -> Tuple[bytes, str]:
    p = subprocess.run(["sh", "-c", cmd], input=data, cwd=cwd, env=env, capture_output=True)
    if p.returncode:
        raise RuntimeError(f"task failed ({p.returncode}): {cmd}\n{p.stderr.decode()[-2000:]}")
    return p.stdout, p.stderr.decode("utf-8", "replace")


def _counters(stderr: str, into: Dict[str, int]) -> None:
    for line in stderr.splitlines():
        if line.startswith("reporter:counter:"):
            group, name, n = line[len("reporter:counter:"):].split(",")
            if group == "invindex":
                into[name] = into.get(name, 0) + int(n)


def run(args: List[str], fetch: Callable[[str], bytes],
        list_inputs: Callable[[str], List[str]], python: str | None = None
        ) -> Tuple[List[bytes], Dict[str, int]]:
    """Run a streaming step; return the parts' bytes (in order) and the counters.

    ``fetch(uri)`` reads a shipped file or an input object; ``list_inputs(uri)`` expands
    an ``-input`` (a file, or a directory/prefix with Hadoop's hidden-name rule) to URIs.
    """
    step = parse(args)
    reducers = int(step.conf.get("mapreduce.job.reduces", "1"))
    nkeys = int(step.conf.get("stream.num.map.output.key.fields", "1"))
    counters: Dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="task-") as t:
        task = Path(t) / "work"
        task.mkdir()
        for uri, name in step.files:
            (task / name).write_bytes(fetch(uri))
        env = {"PATH": f"{python_shim(Path(t) / 'bin', python).parent}:/usr/bin:/bin",
               "LC_ALL": "C.UTF-8", "HOME": t}
        map_out: List[bytes] = []
        for spec in step.inputs:
            for uri in list_inputs(spec):
                data = _decompress(uri, fetch(uri))
                out, err = _sh(step.mapper, data, task,
                               {**env, "mapreduce_map_input_file": uri,
                                "mapreduce_map_input_start": "0"})
                _counters(err, counters)
                lines = out.splitlines(keepends=True)
                if step.combiner:
                    lines.sort(key=lambda ln: b"\t".join(ln.split(b"\t")[:nkeys]))
                    out, err = _sh(step.combiner, b"".join(lines), task, env)
                    _counters(err, counters)
                    lines = out.splitlines(keepends=True)
                map_out.extend(lines)
        buckets: List[List[bytes]] = [[] for _ in range(reducers)]
        for line in map_out:
            term = line.split(b"\t", 1)[0].decode("utf-8")
            p = indexfmt.partition_of(term, reducers) if step.partitioner == KFP else 0
            buckets[p].append(line)
        parts = []
        for lines in buckets:
            lines.sort(key=lambda ln: (b"\t".join(ln.split(b"\t")[:nkeys]), ln))
            out, err = _sh(step.reducer or "cat", b"".join(lines), task, env)
            _counters(err, counters)
            parts.append(out)
        shutil.rmtree(task)
    return parts, counters


def local_io() -> Tuple[Callable[[str], bytes], Callable[[str], List[str]]]:
    """``fetch`` / ``list_inputs`` for plain local paths (the hadoop-command test)."""
    def fetch(uri: str) -> bytes:
        return Path(uri).read_bytes()

    def list_inputs(uri: str) -> List[str]:
        p = Path(uri)
        if p.is_file():
            return [str(p)]
        return sorted(str(f) for f in p.rglob("*") if f.is_file() and not any(
            part.startswith(("_", ".")) for part in f.relative_to(p).parts))
    return fetch, list_inputs
