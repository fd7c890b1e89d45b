"""Where a downloaded object may land: the one place that turns keys into local paths.

An object key is any string the bucket's owner chose, so a download must never join
it to a directory unchecked (``corpus/../../etc/x`` would climb out). The AWS CLI
learned this the hard way and now skips such keys with a warning ("File references a
parent directory") and exits 2; we are stricter and refuse, rather than normalize, any
key that is not plainly a relative name:

- an empty name, a leading ``/``, a NUL, a ``.`` or ``..`` segment;
- a character the filesystem cannot encode, a segment longer than its NAME_MAX, a
  whole path longer than its PATH_MAX;
- two keys that become one file (``a//b.txt`` and ``a/b.txt``: empty segments collapse
  as they do in a path), or one key's file that another needs as a directory.

Every download path (``transfer.plan_copy``/``plan_sync`` to a local destination,
``remote.stage_inputs``) goes through ``plan_paths``; callers count and report the
refused keys and fail at the end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Iterable, List, Tuple

from .errors import StorageError

_SEPARATORS = {"/", os.sep} | ({os.altsep} if os.altsep else set())


class UnsafeKey(StorageError):
    """A key that does not map to a path strictly below the destination."""


@dataclass(frozen=True)
class Refused:
    """A key left out of a download, and why (one line for the user)."""

    key: str
    reason: str


def printable(text: str) -> str:
    """``text`` with control characters escaped: a hostile key shown in a warning must
    not drive the terminal (ANSI escapes) or forge extra lines."""
    return "".join(c if c.isprintable() or c == " " else
                   c.encode("unicode_escape").decode("ascii") for c in text)


@lru_cache(maxsize=64)
def _limits(directory: str) -> Tuple[int, int]:
    """(NAME_MAX, PATH_MAX) of the filesystem holding ``directory`` (or its nearest
    existing ancestor); the usual Linux values where the system cannot say."""
    path = os.path.abspath(directory)
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    limits = []
    for name, default in (("PC_NAME_MAX", 255), ("PC_PATH_MAX", 4096)):
        try:
            limits.append(os.pathconf(path, name))
        except (OSError, ValueError, AttributeError):
            limits.append(default)
    return limits[0], limits[1]


def segments(rel: str, name_max: int = 255) -> Tuple[str, ...]:
    """The path segments of ``rel`` (a ``/``-separated key relative to the source),
    or ``UnsafeKey`` saying why it has none. Pure: no filesystem access."""
    if not rel:
        raise UnsafeKey("an empty name")
    if "\0" in rel:
        raise UnsafeKey("a NUL character")
    if rel.startswith("/"):
        raise UnsafeKey("a leading '/'")
    parts = tuple(p for p in rel.split("/") if p)
    if not parts:
        raise UnsafeKey("no name (only '/')")
    for part in parts:
        if part in (".", ".."):
            raise UnsafeKey(f"a '{part}' segment")
        if any(sep in part for sep in _SEPARATORS - {"/"}):
            raise UnsafeKey("a path separator of this system inside a name")
        try:
            size = len(os.fsencode(part))
        except UnicodeError:
            raise UnsafeKey("a name this filesystem cannot encode") from None
        if size > name_max:
            raise UnsafeKey(f"a name of {size} bytes (this filesystem allows {name_max})")
    return parts


def local_path(dest: str | os.PathLike[str], rel: str) -> str:
    """The path for key ``rel`` strictly below directory ``dest``, or ``UnsafeKey``."""
    base = os.fspath(dest)
    name_max, path_max = _limits(base)
    path = os.path.join(base, *segments(rel, name_max))
    root, full = os.path.abspath(base), os.path.abspath(path)
    if os.path.commonpath([root, full]) != root or full == root:  # cannot happen; be sure
        raise UnsafeKey("a path outside the destination")
    if len(os.fsencode(full)) >= path_max:
        raise UnsafeKey(f"a path of {len(os.fsencode(full))} bytes (this system allows "
                        f"{path_max - 1})")
    return path


def plan_paths(dest: str | os.PathLike[str], rels: Iterable[str]
               ) -> Tuple[Dict[str, str], List[Refused]]:
    """``({rel: local path}, refused)`` for a whole download, collisions included.

    Keys that land on one file, or where one key's file would have to be another's
    directory, are all refused: which one should win is not ours to guess.
    """
    mapped: Dict[str, str] = {}
    refused: List[Refused] = []
    for rel in rels:
        try:
            mapped[rel] = local_path(dest, rel)
        except UnsafeKey as e:
            refused.append(Refused(rel, str(e)))
    by_path: Dict[str, List[str]] = {}
    for rel, path in mapped.items():
        by_path.setdefault(path, []).append(rel)
    clash: Dict[str, str] = {}
    for rels_here in by_path.values():
        if len(rels_here) > 1:
            for rel in rels_here:
                other = next(r for r in rels_here if r != rel)
                clash[rel] = f"the same local file as {other!r} (two keys, one file)"
    dirs = {os.path.dirname(p) for p in by_path}
    ancestors = set()
    for d in dirs:
        while d not in ancestors and d != os.path.dirname(d):
            ancestors.add(d)
            d = os.path.dirname(d)
    for path, rels_here in by_path.items():
        if path in ancestors:
            for rel in rels_here:
                clash.setdefault(rel, "a file where other keys need a directory")
            prefix = path + os.sep
            for other, rels_other in by_path.items():
                if other.startswith(prefix):
                    for rel in rels_other:
                        clash.setdefault(rel, f"a file below {rels_here[0]!r}, which is a file")
    for rel, reason in clash.items():
        del mapped[rel]
        refused.append(Refused(rel, reason))
    return mapped, refused
