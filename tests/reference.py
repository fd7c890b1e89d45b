"""A brute-force reference index, written from DESIGN.md's contracts alone.

Deliberately naive and independent of ``invindex.core``: whole corpus in memory,
Python's sort, ``json.dumps``. Stemming uses the ``snowballstemmer`` package (the
official Snowball algorithms) as the oracle for our pure-Python port.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
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
                    positions: bool = True, store_text: bool = False) -> List[str]:
    """The index lines (all parts together, byte-sorted) for a corpus given as bytes:
    the terms', the document table's (``!XXX``: crc32 bucket of the doc_id -> each
    document's indexed tokens) and, with ``store_text``, the texts' (``#doc_id``)."""
    stemmer = None
    if stem:
        import snowballstemmer

        stemmer = snowballstemmer.stemmer("english")
    docs, _ = parse(data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n"))
    index: Dict[str, Dict[str, List[int]]] = defaultdict(lambda: defaultdict(list))
    lengths: Dict[str, int] = defaultdict(int)
    texts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for doc_id, text in docs:
        lengths[doc_id] += 0
        blob = base64.b64encode(zlib.compress(text.encode("utf-8"), 6)).decode()
        texts[doc_id][blob] += 1
        for i, tok in enumerate(TOKEN.findall(text.lower())):
            if len(tok) < min_len or (max_len is not None and len(tok) > max_len):
                continue
            if stopwords and tok in stopwords:
                continue
            term = stemmer.stemWord(tok) if stemmer else tok
            index[term][doc_id].append(i)
            lengths[doc_id] += 1
    out = []
    buckets: Dict[str, List[list]] = defaultdict(list)
    for doc_id in sorted(lengths):
        buckets["!%03x" % (zlib.crc32(doc_id.encode()) % 4096)].append(
            [doc_id, lengths[doc_id]])
    for key in sorted(buckets):
        out.append(key + "\t" + json.dumps({"df": len(buckets[key]), "postings": buckets[key]},
                                           ensure_ascii=False, separators=(",", ":")))
    if store_text:
        for doc_id in sorted(texts):
            postings = [[b, n] for b, n in sorted(texts[doc_id].items())]
            out.append("#" + doc_id + "\t" + json.dumps(
                {"df": len(postings), "postings": postings}, separators=(",", ":")))
    for term in sorted(index, key=lambda t: t.encode("utf-8")):
        postings = []
        for doc_id in sorted(index[term]):
            ps = sorted(index[term][doc_id])
            postings.append([doc_id, len(ps), ps] if positions else [doc_id, len(ps)])
        payload = {"df": len(postings), "postings": postings}
        out.append(term + "\t" + json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    return out
