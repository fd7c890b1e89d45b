"""``invindex info INDEX``: what an index holds and how it was made (its manifest, and
each part's size), without reading the parts."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, Dict, List

if TYPE_CHECKING:
    from ..index import IndexReader


def register(sub) -> None:
    p = sub.add_parser(
        "info", help="show an index's counts, analyzer, parts, runner, inputs",
        description="Show what an index holds and how it was built, from its manifest: "
                    "counts, analyzer, parts with their sizes and checksums, "
                    "partitioning, runner, inputs, creation time. Reads no part.")
    p.add_argument("index", metavar="INDEX")
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    p.set_defaults(func=run)


def describe(reader: IndexReader) -> Dict[str, Any]:
    m = reader.manifest
    files = m.get("part_files") or {}
    parts: List[Dict[str, Any]] = []
    for name in m["parts"]:
        entry = files.get(name) or {}
        size = entry.get("bytes")
        parts.append({"name": name, "bytes": reader.file_size(name) if size is None
                      else size, "crc32c": entry.get("crc32c")})
    return {"index": reader.location, "format_version": m["format_version"],
            "invindex_version": m.get("invindex_version"), "created": m.get("created"),
            "runner": m.get("runner"), "inputs": m.get("inputs", []),
            "analyzer": m["analyzer"], "counts": m["counts"],
            "partitioning": m.get("partitioning", {}), "parts": parts}


def _analyzer(a: Dict[str, Any]) -> str:
    bits = [a.get("tokenizer") or "lower+isalnum-runs"]
    if a.get("stopwords") or a.get("stopword_list"):
        bits.append(f"stopwords {a.get('stopwords') or 'list'}")
    if a.get("stem"):
        bits.append("Snowball English stemming")
    if a.get("min_token_length", 1) != 1 or a.get("max_token_length"):
        bits.append(f"token length {a.get('min_token_length', 1)}.."
                    f"{a.get('max_token_length') or ''}")
    bits.append("positions" if a.get("positions", True) else "no positions")
    if a.get("store_text"):
        bits.append("texts stored")
    return ", ".join(bits)


def run(args: argparse.Namespace) -> int:
    from ..index import IndexReader  # on use: start time (see invindex.cli)

    info = describe(IndexReader(args.index))
    if args.json:
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    c = info["counts"]
    inputs = info["inputs"]
    total = sum(p["bytes"] or 0 for p in info["parts"])
    rows = [
        ("index", info["index"]),
        ("format", f"{info['format_version']} (written by invindex "
                   f"{info['invindex_version'] or '?'})"),
        ("created", info["created"] or "?"),
        ("runner", info["runner"] or "?"),
        ("inputs", ", ".join(inputs[:3]) + (f" (+{len(inputs) - 3:,} more)"
                                            if len(inputs) > 3 else "")),
        ("analyzer", _analyzer(info["analyzer"])),
        ("documents", f"{c.get('documents', 0):,}"),
        ("tokens", f"{c.get('tokens', 0):,}"),
        ("terms", f"{c.get('terms', 0):,}"),
        ("postings", f"{c.get('postings', 0):,}"),
        ("bad records", f"{c.get('bad_records', 0):,}" + "".join(
            f", {k} {v:,}" for k, v in (c.get("bad_records_by_kind") or {}).items())),
        ("parts", f"{len(info['parts'])} ({info['partitioning'].get('scheme', '?')}), "
                  f"{total:,} bytes ({total / 1e6:,.1f} MB)"),
    ]
    for key, value in rows:
        print(f"{key:<12} {value}")
    for p in info["parts"]:
        size = "missing" if p["bytes"] is None else f"{p['bytes']:>14,} bytes"
        print(f"  {p['name']}  {size}" + (f"  crc32c {p['crc32c']}" if p["crc32c"] else ""))
    return 0
