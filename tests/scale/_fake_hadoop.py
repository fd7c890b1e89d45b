"""A stand-in ``hadoop`` client for mrjob's Hadoop runner: HDFS is a local directory.

Answers what mrjob and invindex call: ``version``; ``fs -ls [-R]``, ``-mkdir -p``,
``-put``, ``-cat``, ``-mv``, ``-rm -R -f -skipTrash``, ``-touchz`` on ``hdfs:///...`` paths (kept
under ``$FAKE_HDFS_ROOT``); and ``jar JAR ARGS`` for a streaming job, run by
``_hadoop_emulator`` with the shipped files fetched from that "HDFS". The job's
counters go to stderr the way Hadoop's job client logs them, where mrjob reads them.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = Path(os.environ["FAKE_HDFS_ROOT"])


def local(uri: str) -> Path:
    u = urlparse(uri)
    if u.scheme and u.scheme != "hdfs":
        return Path(u.path)
    return ROOT / u.path.lstrip("/")


def hdfs(path: Path) -> str:
    return "hdfs:///" + path.relative_to(ROOT).as_posix()


def ls(target: str, recursive: bool) -> int:
    p = local(target)
    if not p.exists():
        print(f"ls: `{target}': No such file or directory", file=sys.stderr)
        return 1
    entries = [p] if p.is_file() else sorted(p.rglob("*") if recursive else p.iterdir())
    for e in entries:
        kind, size = ("d", 0) if e.is_dir() else ("-", e.stat().st_size)
        print(f"{kind}rw-r--r--   1 user group {size:>10} 2026-01-01 00:00 {hdfs(e)}")
    return 0


def fs(args: list) -> int:
    cmd, rest = args[0], [a for a in args[1:] if a not in ("-R", "-f", "-skipTrash", "-p")]
    if cmd == "-ls":
        return ls(rest[0], "-R" in args)
    if cmd == "-mkdir":
        local(rest[0]).mkdir(parents=True, exist_ok=True)
    elif cmd == "-put":
        dst = local(rest[1])
        if dst.is_dir():
            dst = dst / Path(rest[0]).name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(rest[0], dst)
    elif cmd == "-cat":
        sys.stdout.buffer.write(local(rest[0]).read_bytes())
    elif cmd == "-rm":
        p = local(rest[0])
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    elif cmd == "-mv":
        local(rest[1]).parent.mkdir(parents=True, exist_ok=True)
        local(rest[0]).rename(local(rest[1]))
    elif cmd == "-touchz":
        local(rest[0]).parent.mkdir(parents=True, exist_ok=True)
        local(rest[0]).write_bytes(b"")
    else:
        print(f"fake hadoop: unsupported fs {cmd}", file=sys.stderr)
        return 2
    return 0


def jar(args: list) -> int:
    from _hadoop_emulator import run

    def list_inputs(uri: str) -> list:
        p = local(uri)
        if p.is_file():
            return [uri]
        return [hdfs(f) for f in sorted(p.rglob("*")) if f.is_file() and not any(
            part.startswith(("_", ".")) for part in f.relative_to(p).parts)]

    step = args[1:]
    out = local(step[step.index("-output") + 1])
    if out.exists():
        print(f"Output directory {hdfs(out)} already exists", file=sys.stderr)
        return 1
    parts, counters = run(step, lambda u: local(u).read_bytes(), list_inputs,
                          os.environ.get("FAKE_HADOOP_PYTHON"))
    out.mkdir(parents=True)
    for i, data in enumerate(parts):
        (out / f"part-{i:05d}").write_bytes(data)
    lines = "".join(f"\t\t{k}={v}\n" for k, v in sorted(counters.items()))
    sys.stderr.write("26/01/01 00:00:00 INFO mapreduce.Job: Running job: job_1_0001\n"
                     "26/01/01 00:00:09 INFO mapreduce.Job: Job job_1_0001 completed "
                     "successfully\n"
                     f"26/01/01 00:00:09 INFO mapreduce.Job: Counters: {len(counters)}\n"
                     f"\tinvindex\n{lines}"
                     f"26/01/01 00:00:09 INFO streaming.StreamJob: Output directory: "
                     f"{hdfs(out)}\n")
    return 0


def main(argv: list) -> int:
    if argv[:1] == ["version"]:
        print("Hadoop 3.3.6")
        return 0
    if argv[:1] == ["fs"]:
        return fs(argv[1:])
    if argv[:1] == ["jar"]:
        return jar(argv[1:])
    print(f"fake hadoop: unsupported command {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
