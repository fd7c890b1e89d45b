"""The manifest's schema: what a reader may rely on before it reads any part.

A manifest is trusted by every reader (which files to open, how to analyze queries),
so it is checked first: a part name is a plain ``part-NNNNN`` name (never a path), the
parts are listed in order, the format version is a known integer, and the fields a
reader needs are there with the right types. Each problem is one sentence naming the
field. Pure standard library (written as data + a small checker rather than with a
schema library, so node-side code could use it too).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

PART_NAME = re.compile(r"part-[0-9]{5,}")
CHECKSUM = re.compile(r"[0-9a-f]{8}")
COUNT_FIELDS = ("documents", "tokens", "terms", "postings")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _non_negative(v: Any) -> bool:
    return _is_int(v) and v >= 0


def _strings(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(s, str) for s in v)


# field -> (required, check, what it must be)
FIELDS: Dict[str, tuple] = {
    "analyzer": (True, lambda v: isinstance(v, dict), "an object"),
    "counts": (True, lambda v: isinstance(v, dict), "an object"),
    "parts": (True, _strings, "a list of part names"),
    "partitioning": (False, lambda v: isinstance(v, dict), "an object"),
    "part_files": (False, lambda v: isinstance(v, dict), "an object"),
    "runner": (False, lambda v: isinstance(v, str), "a string"),
    "inputs": (False, _strings, "a list of strings"),
    "created": (False, lambda v: isinstance(v, str), "a string"),
}


def problems(manifest: Any, newest: int) -> List[str]:
    """Everything wrong with ``manifest`` (empty when it is valid); a format newer than
    ``newest`` is the one problem reported (its fields may mean other things)."""
    if not isinstance(manifest, dict) or manifest.get("format") != "invindex":
        return ["not an invindex manifest (no \"format\": \"invindex\")"]
    version = manifest.get("format_version")
    if not _is_int(version) or version < 1:
        return [f"format_version {version!r} is not a format version (1 to {newest})"]
    if version > newest:
        return [f"index format version {version} is newer than this invindex reads "
                f"({newest}); upgrade invindex"]
    out: List[str] = []
    for name, (required, check, what) in FIELDS.items():
        if name not in manifest:
            if required:
                out.append(f"{name} is missing")
        elif not check(manifest[name]):
            out.append(f"{name} must be {what}")
    if out:
        return out
    out += _parts_problems(manifest["parts"], manifest.get("part_files"))
    for key in COUNT_FIELDS:
        if key in manifest["counts"] and not _non_negative(manifest["counts"][key]):
            out.append(f"counts.{key} must be a non-negative integer")
    num = manifest.get("partitioning", {}).get("num_parts")
    if num is not None and not _non_negative(num):
        out.append("partitioning.num_parts must be a non-negative integer")
    return out


def _parts_problems(parts: List[str], files: Dict[str, Any] | None) -> List[str]:
    out: List[str] = []
    for name in parts:
        if not PART_NAME.fullmatch(name):
            out.append(f"{name!r} is not a part name (part-NNNNN)")
    if out:
        return out
    for a, b in zip(parts, parts[1:]):
        if not a < b:
            out.append(f"parts are not in order ({a} listed before {b})")
            break
    if files is None:
        return out
    if sorted(files) != sorted(parts):
        out.append("part_files does not name exactly the parts")
        return out
    for name in parts:
        if not _part_entry(files[name]):
            out.append(f"part_files.{name} must be {{\"bytes\": N, \"crc32c\": \"8 hex "
                       "digits\"}} (crc32c may be left out)")
    return out


def _part_entry(e: Any) -> bool:
    return isinstance(e, dict) and _non_negative(e.get("bytes")) and (
        "crc32c" not in e or (isinstance(e["crc32c"], str)
                              and bool(CHECKSUM.fullmatch(e["crc32c"]))))
