"""A compact binary copy of a local index's postings, for fast repeated searching.

The JSON parts are the index (portable, the same bytes from every runner); decoding a
frequent term's line costs a second, so ``search --compact`` reads a binary copy
instead: flat numpy arrays, memory-mapped, built once with one full read of the index
and kept in a cache directory (``$INVINDEX_CACHE`` or ``~/.cache/invindex``) under a
key derived from the index's location and manifest (a rebuilt index gets a new copy).

Layout (``<cache>/compact/<key>/``): ``ids.txt`` (doc_ids in code point order, one a
line: a document's number is its line), ``lengths.npy``; ``terms.txt`` (one a line)
with ``toff.npy`` (term i's postings are ``[toff[i], toff[i+1])``), ``docs.npy``
(int32 numbers), ``tfs.npy`` (int32), ``poff.npy`` (posting j's positions are
``pos[poff[j]:poff[j+1]]``) and ``pos.npy`` (int32); ``gpos.npy``, the same positions
in the collection's ``PositionSpace`` (``space_start.npy``, ``space_end.npy``), for
phrases. Written to a temporary directory and renamed into place, so a half-built copy
is never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from array import array
from pathlib import Path
from typing import Callable, Dict

import numpy as np

from ..core.doctable import is_term
from ..index import IndexReader
from .arrays import EMPTY, DocTable, PositionSpace, TermArrays

FILES = ("lengths.npy", "toff.npy", "docs.npy", "tfs.npy", "poff.npy", "pos.npy",
         "gpos.npy", "space_start.npy", "space_end.npy")


def cache_root() -> Path:
    return Path(os.environ.get("INVINDEX_CACHE") or Path.home() / ".cache" / "invindex")


LAYOUT = 2  # part of the cache key: a new layout never reads an old copy


def cache_key(reader: IndexReader) -> str:
    raw = json.dumps([LAYOUT, os.path.abspath(reader.location), reader.manifest],
                     sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


class CompactTable(DocTable):
    """A ``DocTable`` from the compact copy (numbers and ids as written there)."""

    def __init__(self, ids: list, lengths: np.ndarray) -> None:
        self.ids = ids
        self._number: Dict[str, int] | None = None
        self.lengths = lengths.astype(np.float64)
        self.n = len(ids)
        self.tokens = int(lengths.sum())

    @property
    def number(self) -> Dict[str, int]:  # type: ignore[override]
        if self._number is None:
            self._number = {d: i for i, d in enumerate(self.ids)}
        return self._number


class CompactIndex:
    """``table`` and ``term(t) -> TermArrays`` from the memory-mapped compact copy."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        a = {name[:-4]: np.load(directory / name, mmap_mode="r") for name in FILES}
        ids = (directory / "ids.txt").read_text(encoding="utf-8").split("\n")[:-1]
        self.table = CompactTable(ids, np.asarray(a["lengths"]))
        terms = (directory / "terms.txt").read_text(encoding="utf-8").split("\n")[:-1]
        self._term = {t: i for i, t in enumerate(terms)}
        self._toff, self._docs, self._tfs = a["toff"], a["docs"], a["tfs"]
        self._poff, self._pos, self._gpos = a["poff"], a["pos"], a["gpos"]
        start = np.asarray(a["space_start"])
        end = np.asarray(a["space_end"])
        self.space = PositionSpace(start, end, int(start[-1] + end[-1] + 1) if len(start) else 1)

    def term(self, term: str) -> TermArrays:
        i = self._term.get(term)
        if i is None:
            return EMPTY
        lo, hi = int(self._toff[i]), int(self._toff[i + 1])
        poff = np.asarray(self._poff[lo:hi + 1], dtype=np.int64)
        p0, p1 = int(poff[0]), int(poff[-1])
        return TermArrays(np.asarray(self._docs[lo:hi], dtype=np.int64),
                          np.asarray(self._tfs[lo:hi], dtype=np.float64),
                          poff - poff[0], self._pos[p0:p1], self._gpos[p0:p1])

    @classmethod
    def open(cls, reader: IndexReader,
             lengths: Callable[[], Dict[str, int]]) -> CompactIndex:
        """The cached copy for ``reader``'s index, built first (from ``lengths()`` and
        one pass over the index) if there is none."""
        target = cache_root() / "compact" / cache_key(reader)
        if not (target / "terms.txt").exists():
            build(reader, lengths(), target)
        return cls(target)


def build(reader: IndexReader, lengths: Dict[str, int], target: Path) -> None:
    """One pass over the index's term lines into the arrays; rename into place."""
    table = DocTable(lengths)
    number = table.number
    terms, toff = [], array("q", [0])
    docs, tfs, poff, pos = array("i"), array("i"), array("q", [0]), array("i")
    for line in reader.iter_lines():
        key, _, payload = line.partition("\t")
        if not is_term(key):
            continue
        postings = json.loads(payload)["postings"]
        terms.append(key)
        for p in postings:
            docs.append(number[p[0]])
            tfs.append(p[1])
            if len(p) > 2:
                pos.extend(p[2])
            poff.append(len(pos))
        toff.append(len(docs))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        (tmp / "ids.txt").write_text("".join(d + "\n" for d in table.ids), encoding="utf-8")
        arrays = {"lengths": table.lengths.astype(np.int32), "toff": toff, "docs": docs,
                  "tfs": tfs, "poff": poff, "pos": pos}
        arrays.update(position_space(np.asarray(docs), np.asarray(poff), np.asarray(pos),
                                     table.n))
        for name, values in arrays.items():
            np.save(tmp / f"{name}.npy", np.asarray(values))
        (tmp / "terms.txt").write_text("".join(t + "\n" for t in terms), encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:  # another process built it meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def position_space(docs: np.ndarray, poff: np.ndarray, pos: np.ndarray,
                   n_docs: int) -> Dict[str, np.ndarray]:
    """Each document's span (last position + 1), their starts end to end with a gap of
    one, and every posting's positions moved there (``gpos``)."""
    counts = np.diff(poff)
    has = counts > 0
    end = np.zeros(n_docs, np.int64)
    np.maximum.at(end, docs[has], pos[poff[1:][has] - 1].astype(np.int64) + 1)
    start = np.zeros(n_docs, np.int64)
    if n_docs:
        np.cumsum(end[:-1] + 1, out=start[1:])
    gpos = start[np.repeat(docs, counts)] + pos
    size = int(start[-1] + end[-1] + 1) if n_docs else 1
    return {"gpos": gpos.astype(np.int32 if size < 2**31 else np.int64),
            "space_start": start, "space_end": end}
