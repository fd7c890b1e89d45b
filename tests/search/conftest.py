"""Helpers for the search tests: an index written straight from the reference lines."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from invindex.core import indexfmt
from invindex.core.analysis import Analyzer

from ..reference import reference_lines


def write_index(path: Path, records: List[Tuple[str, str]], stopwords=frozenset(),
                positions: bool = True, store_text: bool = False) -> Path:
    """A finished one-part index of ``records`` from the brute-force reference lines
    (no runner involved: the runners' agreement with them is tested elsewhere)."""
    data = "".join(f"{d}\t{t}\n" for d, t in records).encode()
    lines = reference_lines(data, set(stopwords), positions=positions, store_text=store_text)
    path.mkdir(parents=True)
    (path / "part-00000").write_text("".join(ln + "\n" for ln in lines), encoding="utf-8")
    analyzer = Analyzer(frozenset(stopwords), "custom" if stopwords else None,
                        positions=positions, store_text=store_text)
    manifest = indexfmt.make_manifest(
        analyzer=analyzer.to_manifest(), counts={}, parts=["part-00000"],
        partitioning={"scheme": indexfmt.SINGLE, "num_parts": 1}, runner="test",
        inputs=[], created="now", version="test")
    (path / indexfmt.MANIFEST).write_bytes(indexfmt.dump_manifest(manifest))
    (path / indexfmt.SUCCESS).write_bytes(b"")
    return path
