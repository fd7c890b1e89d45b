"""Turn INPUT arguments (files, globs, directories) into a sorted list of files.

Directories are walked recursively. As Hadoop's FileInputFormat does, names that
start with ``_`` or ``.`` are skipped inside directories (``_SUCCESS``, ``.crc``), but
a file named explicitly is always used. ``.gz`` and ``.bz2`` are decompressed.
"""

from __future__ import annotations

import bz2
import errno
import glob
import gzip
import logging
import os
import stat
from pathlib import Path
from typing import IO, Dict, Iterable, Iterator, List, Tuple

from .errors import UsageError

COMPRESSED = (".gz", ".bz2")

log = logging.getLogger(__name__)


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return "special file"


def _stat(path: Path, shown: str) -> os.stat_result:
    """The file's status (symlinks followed), or one line saying why there is none."""
    try:
        return path.stat()
    except FileNotFoundError:
        raise UsageError(f"input {shown!r} does not exist") from None
    except OSError as e:
        why = ("too many levels of symbolic links (a symlink loop?)"
               if e.errno == errno.ELOOP else e.strerror or str(e))
        raise UsageError(f"input {shown!r}: {why}") from None


def _walk(top: Path) -> Iterator[Tuple[Path, os.stat_result]]:
    """Regular files under ``top`` in sorted order; hidden names skipped, special files
    skipped with a warning (a FIFO would block its reader forever), an unreadable
    directory an error (``os.walk`` would skip it silently)."""
    def fail(e: OSError) -> None:
        raise UsageError(f"cannot read directory {e.filename}: {e.strerror}") from None

    for root, dirs, names in os.walk(top, onerror=fail):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        for name in sorted(n for n in names if not _hidden(n)):
            path = Path(root) / name
            st = _stat(path, str(path))
            if stat.S_ISREG(st.st_mode):
                yield path, st
            elif not stat.S_ISDIR(st.st_mode):
                log.warning("skipped %s: a %s, not a regular file", path, _kind(st.st_mode))


def _expand(arg: str) -> Iterator[Tuple[Path, os.stat_result]]:
    matches = sorted(glob.glob(arg, recursive=True)) if glob.has_magic(arg) else [arg]
    if not matches:
        raise UsageError(f"input {arg!r} matches no files")
    for m in matches:
        p = Path(m)
        st = _stat(p, m)
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(p)
        elif stat.S_ISREG(st.st_mode):
            yield p, st
        else:
            raise UsageError(f"input {m!r} is a {_kind(st.st_mode)}, not a regular file")


def expand_inputs(args: Iterable[str]) -> List[Path]:
    """Every input file once: a file reached under several names (``x.tsv``,
    ``../in/x.tsv``, a symlink, a hard link, a directory holding it) is read once, under
    the first, and the user is told."""
    files: List[Path] = []
    first: Dict[Tuple[int, int], Path] = {}
    for arg in args:
        for path, st in _expand(arg):
            key = (st.st_dev, st.st_ino)
            if key in first:
                log.warning("%s is the same file as %s: read once", path, first[key])
                continue
            first[key] = path
            files.append(path)
    if not files:
        raise UsageError("no input files found")
    return files


def open_input(path: Path) -> IO[bytes]:
    """The file's records as bytes, decompressed by extension."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    if path.suffix == ".bz2":
        return bz2.open(path, "rb")
    return open(path, "rb", buffering=1 << 20)


def total_size(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths)
