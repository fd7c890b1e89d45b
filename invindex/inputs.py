"""Turn INPUT arguments (files, globs, directories) into a sorted list of files.

Directories are walked recursively. As Hadoop's FileInputFormat does, names that
start with ``_`` or ``.`` are skipped inside directories (``_SUCCESS``, ``.crc``), but
a file named explicitly is always used. gzip and bzip2 files are decompressed, known
by their content (``core.compression``), whatever their name. Directories given in
``exclude`` (the build's own output and staging) are never walked.
"""

from __future__ import annotations

import errno
import glob
import logging
import os
import stat
from pathlib import Path
from typing import IO, AbstractSet, Dict, Iterable, Iterator, List, Sequence, Tuple

from .core import compression
from .errors import InvindexError, UsageError

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


def _walk(top: Path, skip: AbstractSet[str] = frozenset()
          ) -> Iterator[Tuple[Path, os.stat_result]]:
    """Regular files under ``top`` in sorted order; hidden names skipped, special files
    skipped with a warning (a FIFO would block its reader forever), an unreadable
    directory an error (``os.walk`` would skip it silently)."""
    def fail(e: OSError) -> None:
        raise UsageError(f"cannot read directory {e.filename}: {e.strerror}") from None

    for root, dirs, names in os.walk(top, onerror=fail):
        dirs[:] = sorted(d for d in dirs if not _hidden(d) and
                         os.path.realpath(os.path.join(root, d)) not in skip)
        for name in sorted(n for n in names if not _hidden(n)):
            path = Path(root) / name
            st = _stat(path, str(path))
            if stat.S_ISREG(st.st_mode):
                yield path, st
            elif not stat.S_ISDIR(st.st_mode):
                log.warning("skipped %s: a %s, not a regular file", path, _kind(st.st_mode))


def _expand(arg: str, skip: AbstractSet[str] = frozenset()
            ) -> Iterator[Tuple[Path, os.stat_result]]:
    matches = sorted(glob.glob(arg, recursive=True)) if glob.has_magic(arg) else [arg]
    if not matches:
        raise UsageError(f"input {arg!r} matches no files")
    for m in matches:
        p = Path(m)
        st = _stat(p, m)
        if stat.S_ISDIR(st.st_mode):
            if os.path.realpath(p) not in skip:
                yield from _walk(p, skip)
        elif stat.S_ISREG(st.st_mode):
            yield p, st
        else:
            raise UsageError(f"input {m!r} is a {_kind(st.st_mode)}, not a regular file")


def expand_inputs(args: Iterable[str], exclude: Sequence[Path] = ()) -> List[Path]:
    """Every input file once: a file reached under several names (``x.tsv``,
    ``../in/x.tsv``, a symlink, a hard link, a directory holding it) is read once, under
    the first, and the user is told."""
    skip = {os.path.realpath(p) for p in exclude}
    files: List[Path] = []
    first: Dict[Tuple[int, int], Path] = {}
    for arg in args:
        for path, st in _expand(arg, skip):
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
    """The file's records as bytes, decompressed by content (magic bytes)."""
    return compression.open_file(str(path))


def compression_of(path: Path) -> str | None:
    return compression.compression_of(str(path))


def decompress_failed(path: Path, e: object) -> InvindexError:
    """One line naming a damaged compressed file (truncated, garbled)."""
    return InvindexError(f"cannot decompress {path}: {e}")


def check_compressed(paths: List[Path]) -> None:
    """Read every compressed input to its end, for readers that stop quietly at a
    truncated one (mrjob's local runners): a damaged file is one line naming it."""
    for path in paths:
        if compression_of(path) is None:
            continue
        try:
            with open_input(path) as f:
                while f.read(1 << 20):
                    pass
        except compression.DECOMPRESS_ERRORS as e:
            if getattr(e, "errno", None) is not None:  # the disk's, not the data's
                raise
            raise decompress_failed(path, e) from None


def named_by_content(paths: List[Path], workdir: Path) -> List[Path]:
    """The inputs under names whose suffix says what their content is, for readers that
    go by the name (Hadoop's codecs, mrjob's local runners): a file whose content and
    name disagree gets a symlink in ``workdir`` named right (``x.tsv`` holding gzip is
    read as ``x.tsv.gz``, a ``.gz`` holding plain text without the suffix)."""
    out: List[Path] = []
    for i, path in enumerate(paths):
        kind = compression_of(path)
        want = compression.SUFFIXES.get(kind or "", "")
        if path.suffix == want or (not want and path.suffix not in (".gz", ".bz2")):
            out.append(path)
            continue
        stem = path.name[:-len(path.suffix)] if path.suffix in (".gz", ".bz2") else path.name
        link = workdir / "by-content" / f"{i:05d}" / (stem + want)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(path.resolve())
        out.append(link)
    return out


def total_size(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths)
