"""Turn INPUT arguments (files, globs, directories) into a sorted list of files.

Directories are walked recursively. As Hadoop's FileInputFormat does, names that
start with ``_`` or ``.`` are skipped inside directories (``_SUCCESS``, ``.crc``), but
a file named explicitly is always used. ``.gz`` and ``.bz2`` are decompressed.
"""

from __future__ import annotations

import bz2
import glob
import gzip
import os
from pathlib import Path
from typing import IO, Iterable, List

from .errors import UsageError

COMPRESSED = (".gz", ".bz2")


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def expand_inputs(args: Iterable[str]) -> List[Path]:
    files: List[Path] = []
    for arg in args:
        matches = sorted(glob.glob(arg, recursive=True)) if glob.has_magic(arg) else [arg]
        if not matches:
            raise UsageError(f"input {arg!r} matches no files")
        for m in matches:
            p = Path(m)
            if p.is_dir():
                for root, dirs, names in os.walk(p):
                    dirs[:] = sorted(d for d in dirs if not _hidden(d))
                    files.extend(Path(root) / n for n in sorted(names) if not _hidden(n))
            elif p.is_file():
                files.append(p)
            else:
                raise UsageError(f"input {arg!r} does not exist")
    seen = set()
    unique = [f for f in files if not (f in seen or seen.add(f))]  # type: ignore[func-returns-value]
    if not unique:
        raise UsageError("no input files found")
    return unique


def open_input(path: Path) -> IO[bytes]:
    """The file's records as bytes, decompressed by extension."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    return open(path, "rb", buffering=1 << 20)


def total_size(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths)
