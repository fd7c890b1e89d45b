"""Damage detection: each part's size and checksum in the manifest, the checks a reader
makes when it opens a part or returns a line, and ``verify``'s full check.

- At commit, ``part_files`` records every part's byte size and CRC32C (the checksum GCS
  keeps for every object; computed with google-crc32c's C code when installed) in the
  manifest's ``part_files``.
- A reader compares a part's size with the manifest whenever it opens one (a truncated
  or grown part is refused) and checks the one line a lookup returns (``line_problem``:
  valid, canonical, consistent), so damage is an error instead of an answer.
- ``verify`` reads everything: sizes, checksums, every line, sort order, each term in
  exactly one part (its partition), and the counts against the manifest.
Indexes from before ``part_files`` existed are read as before (no size to compare).
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any, Callable, Dict, Iterable, List, Tuple

from ..core import doctable, indexfmt
from ..errors import InvindexError
from ..storage.checksum import Crc32c

_BLOCK = 1 << 20
_INT = {int}


class DamagedIndex(InvindexError):
    """An index whose files do not match its manifest or its format."""


def part_entry(f: IO[bytes]) -> Dict[str, Any]:
    """``{"bytes": N, "crc32c": hex}`` of one part, read once in 1 MiB blocks."""
    crc = Crc32c()
    size = 0
    while True:
        block = f.read(_BLOCK)
        if not block:
            break
        crc.update(block)
        size += len(block)
    return {"bytes": size, "crc32c": crc.hexdigest()}


def part_files(names: Iterable[str], open_part: Callable[[str], IO[bytes]]
               ) -> Dict[str, Dict[str, Any]]:
    """The manifest's ``part_files``: each part's size and checksum."""
    out = {}
    for name in names:
        with open_part(name) as f:
            out[name] = part_entry(f)
    return out


def damaged(location: str, what: str) -> DamagedIndex:
    return DamagedIndex(f"{location} is damaged: {what}; `invindex verify {location}` "
                        "lists every problem; rebuild the index")


def check_size(location: str, manifest: Dict[str, Any], name: str, size: int) -> None:
    """Refuse a part whose size is not the one the manifest records."""
    entry = (manifest.get("part_files") or {}).get(name)
    if entry is not None and entry["bytes"] != size:
        raise damaged(location, f"{name} is {size:,} bytes where the manifest records "
                                f"{entry['bytes']:,}")


def check_line(location: str, manifest: Dict[str, Any], name: str, raw: bytes) -> str:
    """The line as text, or ``DamagedIndex`` when it is not a well-formed index line."""
    problem = line_problem(raw, bool(manifest["analyzer"].get("positions", True)))
    if problem:
        raise damaged(location, f"a line of {name} {problem}")
    return raw.decode("utf-8").rstrip("\n")


def _posting_problem(key: str, p: Any, positions: bool) -> str | None:
    if not isinstance(p, list) or not p or not isinstance(p[0], str):
        return "has a posting that is not [doc_id, ...]"
    if key[:1] == doctable.DOC_TABLE:
        ok = len(p) == 2 and isinstance(p[1], int) and p[1] >= 0
        return None if ok else "has a document-table entry that is not [doc_id, length]"
    if key[:1] == doctable.STORED_TEXT:
        return None if p[1:] == [1] else "has a stored text that is not [blob, 1]"
    if not (len(p) == (3 if positions else 2) and isinstance(p[1], int) and p[1] >= 1):
        return "has a posting that is not [doc_id, tf" + (", [positions]]" if positions
                                                          else "]")
    if positions:
        ps = p[2]
        if not (isinstance(ps, list) and len(ps) == p[1]
                and all(isinstance(x, int) and x >= 0 for x in ps)
                # non-decreasing: a doc_id in several records merges their positions,
                # so the same ordinal can occur twice (tf counts both)
                and all(a <= b for a, b in zip(ps, ps[1:], strict=False))):
            return f"has positions of {p[0]!r} that are not tf ascending integers"
    return None


def _term_postings_ok(postings: List[Any], positions: bool) -> bool:
    """The common case at C speed (``map``/``set`` over each position list): every
    posting ``[str, tf >= 1(, tf non-decreasing ints >= 0)]``; ``_posting_problem``
    says what is wrong only when this fails."""
    width = 3 if positions else 2
    for p in postings:
        if type(p) is not list or len(p) != width or type(p[0]) is not str \
                or type(p[1]) is not int or p[1] < 1:
            return False
        if positions:
            ps = p[2]
            if type(ps) is not list or len(ps) != p[1] or not set(map(type, ps)) <= _INT \
                    or ps[0] < 0 or not all(map(operator.le, ps, islice(ps, 1, None))):
                return False
    return True


def line_problem(raw: bytes, positions: bool = True) -> str | None:
    """What is wrong with one index line (``None``: nothing): UTF-8, a tab, canonical
    compact JSON ``{"df":N,"postings":[...]}`` with df postings sorted by doc_id."""
    return parse_line(raw, positions)[0]


def parse_line(raw: bytes, positions: bool = True) -> Tuple[str | None, Any]:
    """``(problem, parsed JSON)`` of one index line (the JSON is None when unusable)."""
    problem = _check(raw, positions)
    if isinstance(problem, str):
        return problem, None
    return None, problem


def _check(raw: bytes, positions: bool) -> Any:
    if not raw.endswith(b"\n"):
        return "is cut off (no newline at its end)"
    try:
        line = raw[:-1].decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8"
    key, tab, payload = line.partition("\t")
    if not tab or not key:
        return "has no term<TAB> before its JSON"
    try:
        obj = json.loads(payload)
    except ValueError:
        return f"for {key[:40]!r} is not valid JSON"
    if not isinstance(obj, dict) or list(obj) != ["df", "postings"]:
        return f"for {key[:40]!r} is not {{\"df\":N,\"postings\":[...]}}"
    if json.dumps(obj, separators=(",", ":"), ensure_ascii=False) != payload:
        return f"for {key[:40]!r} is not canonical JSON"
    postings = obj["postings"]
    if not isinstance(postings, list) or obj["df"] != len(postings):
        return f"for {key[:40]!r} has df {obj['df']} but {len(postings)} postings"
    if key[:1] in (doctable.DOC_TABLE, doctable.STORED_TEXT) or \
            not _term_postings_ok(postings, positions):
        for p in postings:
            problem = _posting_problem(key, p, positions)
            if problem:
                return f"for {key[:40]!r} {problem}"
    ids = [p[0] for p in postings]
    if not all(map(operator.lt, ids, islice(ids, 1, None))):
        return f"for {key[:40]!r} has postings out of doc_id order"
    return obj


@dataclass
class Report:
    """What ``verify`` found: problems (each one sentence) and what it read."""

    problems: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    parts: int = 0
    lines: int = 0
    bytes: int = 0

    def add(self, problem: str) -> None:
        self.problems.append(problem)


_COUNTED = ("terms", "postings", "tokens", "documents")


class _Totals:
    def __init__(self) -> None:
        self.terms = self.postings = self.tokens = self.documents = self.doc_tokens = 0

    def add(self, key: str, obj: Dict[str, Any]) -> None:
        if key[:1] == doctable.DOC_TABLE:
            self.documents += obj["df"]
            self.doc_tokens += sum(p[1] for p in obj["postings"])
        elif key[:1] != doctable.STORED_TEXT:
            self.terms += 1
            self.postings += obj["df"]
            self.tokens += sum(p[1] for p in obj["postings"])


def verify(location: str, manifest: Dict[str, Any], size_of: Callable[[str], int | None],
           open_part: Callable[[str], IO[bytes]], max_per_part: int = 5) -> Report:
    """Check everything about an index whose manifest is already valid (schema);
    ``size_of`` gives None for a missing part."""
    report = Report()
    parts: List[str] = manifest["parts"]
    files = manifest.get("part_files")
    if files is None:
        report.notes.append("the manifest records no part sizes or checksums (an index "
                            "built before they were recorded, or written in place by a "
                            "cluster): lines checked only")
    scheme = (manifest.get("partitioning") or {}).get("scheme")
    keyfield = scheme == indexfmt.HADOOP_KEYFIELD and \
        manifest["partitioning"].get("num_parts") == len(parts)
    check = _PartCheck(report, manifest, keyfield, max_per_part,
                       seen=None if keyfield or scheme == "range" or len(parts) <= 1
                       else set())
    previous_last: bytes | None = None
    for i, name in enumerate(parts):
        size = size_of(name)
        if size is None:
            report.add(f"{name} is missing")
            continue
        report.parts += 1
        entry = (files or {}).get(name)
        if entry is not None and entry["bytes"] != size:
            report.add(f"{name} is {size:,} bytes where the manifest records "
                       f"{entry['bytes']:,}")
        with open_part(name) as f:
            crc, first, last = check.part(i, name, f)
        if entry is not None and "crc32c" in entry and crc != entry["crc32c"]:
            report.add(f"{name} has checksum {crc} where the manifest records "
                       f"{entry['crc32c']} (its bytes changed after the build)")
        if scheme == "range" and previous_last is not None and first is not None \
                and first <= previous_last:
            report.add(f"{name} starts with a term that sorts before the end of the part "
                       "before it (range partitioning)")
        if last is not None:
            previous_last = last
    _compare_counts(report, manifest, check.totals)
    return report


class _PartCheck:
    """Line by line checks of the parts, in order; totals for the counts."""

    def __init__(self, report: Report, manifest: Dict[str, Any], keyfield: bool,
                 max_per_part: int, seen: set | None) -> None:
        self.report = report
        self.positions = bool(manifest["analyzer"].get("positions", True))
        self.table = manifest["format_version"] >= 2
        self.num_parts = len(manifest["parts"])
        self.keyfield = keyfield
        self.max = max_per_part
        self.seen = seen
        self.totals = _Totals()
        self.found = 0
        self.name = ""

    def bad(self, n: int, what: str) -> None:
        self.found += 1
        if self.found <= self.max:
            self.report.add(f"{self.name} line {n}: {what}")

    def part(self, i: int, name: str, f: IO[bytes]) -> tuple:
        """(crc32c, first key, last key) of one part, its problems reported."""
        self.name, self.found = name, 0
        crc = Crc32c()
        first = last = None
        for n, raw in enumerate(f, 1):
            crc.update(raw)
            self.report.lines += 1
            self.report.bytes += len(raw)
            key_bytes = raw.split(b"\t", 1)[0]
            if first is None:
                first = key_bytes
            if last is not None and key_bytes <= last:
                self.bad(n, "out of order (" + (
                    "the same term twice" if key_bytes == last
                    else "a term that sorts before the line above") + ")")
            last = key_bytes
            self.line(i, n, raw, key_bytes.decode("utf-8", "replace"))
        if self.found > self.max:
            self.report.add(f"{name}: {self.found - self.max:,} more problems not shown")
        return crc.hexdigest(), first, last

    def line(self, i: int, n: int, raw: bytes, key: str) -> None:
        problem, obj = parse_line(raw, self.positions)
        if problem:
            self.bad(n, f"the line {problem}")
        if self.keyfield and indexfmt.partition_of(key, self.num_parts) != i:
            home = indexfmt.partition_of(key, self.num_parts)
            self.bad(n, f"{key[:40]!r} belongs in {indexfmt.part_name(home)}")
        if self.seen is not None:
            if key in self.seen:
                self.bad(n, f"{key[:40]!r} is in another part too")
            self.seen.add(key)
        if problem is not None:
            return
        self.totals.add(key, obj)
        if key[:1] == doctable.DOC_TABLE and self.table:
            wrong = [p[0] for p in obj["postings"] if doctable.doc_table_key(p[0]) != key]
            if wrong:
                self.bad(n, f"document {wrong[0]!r} is in bucket {key}, not "
                            f"{doctable.doc_table_key(wrong[0])}")


def _compare_counts(report: Report, manifest: Dict[str, Any], totals: _Totals) -> None:
    counts = manifest["counts"]
    if report.lines and not any(counts.get(k) for k in _COUNTED):
        report.notes.append("the manifest's counts are zero (the runner returned no "
                            "counters): not compared")
        return
    found = {"terms": totals.terms, "postings": totals.postings, "tokens": totals.tokens}
    if manifest["format_version"] >= 2:
        found["documents"] = totals.documents
        if totals.doc_tokens != totals.tokens:
            report.add(f"the document table's lengths add up to {totals.doc_tokens:,} "
                       f"tokens, the postings to {totals.tokens:,}")
    for key, value in found.items():
        if key in counts and counts[key] != value:
            report.add(f"the manifest counts {counts[key]:,} {key}, the parts hold "
                       f"{value:,}")
