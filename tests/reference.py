"""A brute-force reference index, written from DESIGN.md's contracts alone.

Deliberately naive and independent of ``invindex.core``: whole corpus in memory,
Python's sort, ``json.dumps``. Stemming uses the ``snowballstemmer`` package (the
official Snowball algorithms) as the oracle for our pure-Python port.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Dict, Iterable, List, Set, Tuple

TOKEN = re.compile(r"[^\W_]+")


def parse(lines: Iterable[bytes]) -> Tuple[List[Tuple[str, str]], Dict[str, int]]:
    good, bad = [], defaultdict(int)
    for raw in lines:
        raw = raw[:-1] if raw.endswith(b"\n") else raw
        raw = raw[:-1] if raw.endswith(b"\r") else raw
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            bad["undecodable"] += 1
            continue
        if "\t" not in line:
            bad["no_tab"] += 1
            continue
        doc_id, text = line.split("\t", 1)
        if doc_id == "":
            bad["empty_doc_id"] += 1
        elif any(ord(c) < 32 for c in doc_id):
            bad["control_char_in_doc_id"] += 1
        else:
            good.append((doc_id, text))
    return good, dict(bad)


def reference_lines(data: bytes, stopwords: Set[str] | None = None, stem: bool = False,
                    min_len: int = 1, max_len: int | None = None,
                    positions: bool = True) -> List[str]:
    """The index lines (all parts together, byte-sorted) for a corpus given as bytes."""
    stemmer = None
    if stem:
        import snowballstemmer

        stemmer = snowballstemmer.stemmer("english")
    docs, _ = parse(data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"))
    index: Dict[str, Dict[str, List[int]]] = defaultdict(lambda: defaultdict(list))
    for doc_id, text in docs:
        for i, tok in enumerate(TOKEN.findall(text.lower())):
            if len(tok) < min_len or (max_len is not None and len(tok) > max_len):
                continue
            if stopwords and tok in stopwords:
                continue
            term = stemmer.stemWord(tok) if stemmer else tok
            index[term][doc_id].append(i)
    out = []
    for term in sorted(index, key=lambda t: t.encode("utf-8")):
        postings = []
        for doc_id in sorted(index[term]):
            ps = sorted(index[term][doc_id])
            postings.append([doc_id, len(ps), ps] if positions else [doc_id, len(ps)])
        payload = {"df": len(postings), "postings": postings}
        out.append(term + "\t" + json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    return out
