"""The index format: part names, partitioning, manifest, and finding a term in a part.

An index is a directory (or object-store prefix) of ``part-NNNNN`` files, each sorted
by term in byte order with every term in exactly one part, plus ``_manifest.json``
and, written last, ``_SUCCESS``. See DESIGN.md, "Index output".
"""

from __future__ import annotations

import json
from typing import IO, Any, Dict, Iterable, Iterator, List, Tuple

from . import manifestschema

FORMAT = "invindex"
FORMAT_VERSION = 2
MANIFEST = "_manifest.json"
SUCCESS = "_SUCCESS"

# Partitioning schemes a manifest can name. "hadoop-keyfield" is the hash Hadoop's
# KeyFieldBasedPartitioner computes for `-k1,1` (31*h + signed byte over the term's
# UTF-8, masked, mod parts), so our local engines partition as a Hadoop job would.
HADOOP_KEYFIELD = "hadoop-keyfield"
SINGLE = "single"


def part_name(i: int) -> str:
    return f"part-{i:05d}"


def keyfield_hash(term: str) -> int:
    h = 0
    for b in term.encode("utf-8"):
        h = (31 * h + (b - 256 if b > 127 else b)) & 0xFFFFFFFF
    return h


def partition_of(term: str, parts: int) -> int:
    """The part a term lands in, the way Hadoop's KeyFieldBasedPartitioner -k1,1 does."""
    if parts <= 1 or not term:
        return 0
    return (keyfield_hash(term) & 0x7FFFFFFF) % parts


def make_manifest(*, analyzer: Dict[str, Any], counts: Dict[str, Any], parts: List[str],
                  partitioning: Dict[str, Any], runner: str, inputs: List[str],
                  created: str, version: str, extra: Dict[str, Any] | None = None
                  ) -> Dict[str, Any]:
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": created,
        "invindex_version": version,
        "runner": runner,
        "inputs": inputs,
        "analyzer": analyzer,
        "counts": counts,
        "parts": parts,
        "partitioning": partitioning,
    }
    if extra:
        manifest.update(extra)
    return manifest


def dump_manifest(manifest: Dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def load_manifest(data: bytes) -> Dict[str, Any]:
    """The manifest, checked against its schema (``manifestschema``): ValueError with
    every problem found."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"not valid JSON ({e})") from None
    found = manifestschema.problems(manifest, FORMAT_VERSION)
    if found:
        raise ValueError("; ".join(found))
    return manifest


def looks_like_index(names: Iterable[str]) -> bool:
    """Whether files with these names are (part of) an index: a directory without
    any is not an unfinished build but something else."""
    return any(n in (MANIFEST, SUCCESS) or manifestschema.PART_NAME.fullmatch(n)
               for n in names)


def candidate_parts(manifest: Dict[str, Any], term: str) -> List[str]:
    """The parts that may hold ``term``: one when the partitioning is known, else all."""
    parts = manifest["parts"]
    scheme = manifest.get("partitioning", {}).get("scheme")
    if scheme == HADOOP_KEYFIELD and len(parts) == manifest["partitioning"].get("num_parts"):
        return [parts[partition_of(term, len(parts))]]
    if scheme == SINGLE and len(parts) == 1:
        return parts
    return list(parts)


def parse_index_line(line: str) -> Tuple[str, Dict[str, Any]]:
    term, _, payload = line.rstrip("\n").partition("\t")
    return term, json.loads(payload)


# -- finding a term in one sorted part without reading it all -------------------------
_CHUNK = 1 << 16


def _skip_line(f: IO[bytes]) -> int:
    """Advance past the next newline, reading 256 bytes first and doubling up to 64 KiB:
    most lines are short, but a frequent term's line can be megabytes."""
    size = 256
    while True:
        chunk = f.read(size)
        if not chunk:
            return f.tell()
        nl = chunk.find(b"\n")
        if nl >= 0:
            pos = f.tell() - len(chunk) + nl + 1
            f.seek(pos)
            return pos
        size = min(size * 2, _CHUNK)


def _read_key(f: IO[bytes]) -> bytes | None:
    """The term of the line starting at the current offset (None at end of file)."""
    buf = b""
    while True:
        chunk = f.read(256)
        if not chunk:
            return buf or None
        buf += chunk
        tab = buf.find(b"\t")
        if tab >= 0:
            return buf[:tab]


def find_in_part(f: IO[bytes], size: int, term: str) -> bytes | None:
    """The whole line for ``term`` in a byte-sorted part, by bisection over offsets.

    O(log size) seeks; reads only keys and the one matching line. It keeps two facts:
    ``lo`` is a line start and every line before it has a smaller key; the first line
    starting at or after ``hi`` has a key no smaller (or there is none).
    """
    key = term.encode("utf-8")
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if mid == 0:
            start = 0
            f.seek(0)
        else:
            f.seek(mid - 1)
            start = _skip_line(f)
        if start >= size:
            hi = mid
            continue
        k = _read_key(f)
        if k is not None and k < key:
            f.seek(start)
            lo = _skip_line(f)
        else:
            hi = mid
    f.seek(lo)
    k = _read_key(f)
    if k != key:
        return None
    f.seek(lo)
    return f.readline()


def iter_part_lines(f: IO[bytes]) -> Iterator[str]:
    for raw in f:
        yield raw.decode("utf-8").rstrip("\n")
