"""The fast engine's reduce for text runs: one partition's runs merged by term.

A term's pieces are concatenated when their doc_id ranges are disjoint (the usual case)
and merged posting by posting otherwise (interleaved or repeated doc ids), with the same
rules as the streaming reducer.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import resource
from itertools import groupby
from json.decoder import scanstring
from operator import itemgetter
from typing import Dict, Iterator, List, Tuple

from ..core.doctable import key_counters

# A merge opens at most this many runs at once (more are merged in passes); under a low
# `ulimit -n`, half of what is left after FDS_KEPT (the interpreter's own, the pool's).
MAX_FAN_IN = 256
# A term's overlapping pieces are merged at their edges only from this many bytes on.
EDGE_MERGE_BYTES = 1 << 16
FDS_KEPT = 24


def _run_lines(path: str) -> Iterator[Tuple[str, int, str]]:
    with open(path, encoding="utf-8", newline="\n") as f:
        for line in f:
            term, df, encs = line[:-1].split("\t", 2)
            yield term, int(df), encs


def _first_doc(encs: str) -> str:
    return scanstring(encs, 2)[0]


def _last_doc(encs: str) -> str:
    # The last quote closes the last id (tf and positions hold none); the boundary before
    # it is the last ',["' that ends before it: an id ending in ',[' makes one with it.
    i = encs.rfind(',["', 0, encs.rfind('"'))
    return scanstring(encs, 2 if i < 0 else i + 3)[0]


def _frag_doc(frag: str) -> str:
    return frag[:frag.index('"')]


def _interleave(pieces: List[str]) -> Tuple[int, str] | None:
    """Merge pieces whose doc_id ranges overlap by sorting their postings as strings.

    A posting ``["doc",tf,[...]]`` is cut at ``,["`` (inside a JSON string a quote is
    escaped, so that only occurs between postings, or where an id ends in ',[' and its
    closing quote follows: ',[",' tells those apart). Without backslash escapes the raw
    id is the doc_id itself, and without ' ' or '!' (the only id characters that sort
    before the closing quote) whole fragments sort in doc_id order. Returns None when
    ids are escaped, repeated or end in ',[': the caller then merges exactly.
    """
    if any("\\" in e or ',[",' in e for e in pieces):
        return None
    frags: List[str] = []
    for e in pieces:
        frags.extend(e[2:].split(',["'))
    if any(" " in e or "!" in e for e in pieces):
        frags.sort(key=_frag_doc)
    else:
        frags.sort()
    out = '["' + ',["'.join(frags)
    docs = _DOC_IDS(out)  # sorted, so a repeated id would sit next to itself
    if len(set(docs)) != len(docs):
        return None
    return len(frags), out


_DOC_IDS = re.compile(r'\["([^"]*)",').findall


def _merge_exact(pieces: List[str]) -> Tuple[int, str]:
    """Posting by posting, with repeated doc_ids merged as the streaming reducer does."""
    merged: Dict[str, list] = {}
    for e in pieces:
        for posting in json.loads("[" + e + "]"):
            prev = merged.get(posting[0])
            if prev is None:
                merged[posting[0]] = posting
            else:
                prev[1] += posting[1]
                if len(posting) > 2:
                    prev[2] = sorted(prev[2] + posting[2])
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return len(merged), ",".join(dumps(merged[d]) for d in sorted(merged))


def _merge_pieces(pieces: List[Tuple[int, str]]) -> Tuple[int, str]:
    """One term's pieces from several runs, in doc_id order, as (df, postings)."""
    if len(pieces) == 1:
        return pieces[0]
    keyed = sorted(((_first_doc(e), _last_doc(e), df, e) for df, e in pieces))
    if all(keyed[i][1] < keyed[i + 1][0] for i in range(len(keyed) - 1)):
        return sum(k[2] for k in keyed), ",".join(k[3] for k in keyed)
    encs = [k[3] for k in keyed]
    # Small pieces, or escaped ids (the raw ids are not the doc_ids): one sort of all
    # the postings. Otherwise only where pieces really interleave (``_merge_spans``).
    if (sum(map(len, encs)) < EDGE_MERGE_BYTES
            or any("\\" in e or ',[",' in e for e in encs)):
        return _interleave(encs) or _merge_exact(encs)
    return _merge_spans(keyed)


# Overlapping pieces usually overlap only at their edges: a batch's records are sorted
# by doc_id, but a file's order is not doc_id order, so two batches' ranges cross where
# one ends and the next starts. Only the postings in the common range are merged; the
# rest is copied. These helpers assume no backslash and no ',[",' in the pieces, so a
# posting starts at 0 or after each ',["' and its raw id is its doc_id.
def _cut(enc: str, doc: str, after: bool) -> int:
    """Start of the first posting whose doc_id is >= ``doc`` (> with ``after``), or
    ``len(enc)``: a binary search over the postings' starts (0 and after each ',["')."""
    def meets(s: int) -> bool:
        d = enc[s + 2:enc.index('"', s + 2)]
        return d > doc if after else d >= doc

    lo, hi = 0, len(enc)  # lo: a start, every earlier one fails; hi: meets, or the end
    while lo < hi:
        mid = (lo + hi) // 2
        k = enc.find(',["', mid, hi)  # a start in (mid, hi), else one in (lo, mid]
        if k < 0:
            k = enc.rfind(',["', lo, mid + 2)
        if k < 0:  # lo is the only start left
            return lo if meets(lo) else hi
        if meets(k + 1):
            hi = k + 1
        else:
            lo = enc.find(',["', k + 1, hi) + 1 or hi
    return lo


def _postings_in(enc: str) -> int:
    return enc.count(',["') + 1 if enc else 0


def _merge_spans(keyed: List[Tuple[str, str, int, str]]) -> Tuple[int, str]:
    """Pieces ``(first, last, df, postings)`` cut at every piece's first and last
    doc_id: between two consecutive such ids, the one piece that has postings there is
    copied, several are merged. Pieces that overlap at their edges (consecutive
    batches) are merged in their common range only; a piece whose range spans others
    (a batch that held the end of one file copy and the start of the next, whose ids
    sort far apart) is cut around them, not merged with them."""
    bounds = sorted({k[0] for k in keyed} | {k[1] for k in keyed})
    where = {b: i for i, b in enumerate(bounds)}
    segments: List[List[str]] = [[] for _ in bounds]  # per interval [b_i, b_i+1)
    df = 0
    for first, last, n, enc in keyed:
        df += n
        i = where[first]
        start = 0
        for b in bounds[i + 1:where[last] + 1]:
            end = _cut(enc, b, after=False)
            if end > start:
                segments[i].append(enc[start:end - 1])
            start, i = end, where[b]
        if start < len(enc):
            segments[i].append(enc[start:])
    out: List[str] = []
    for parts in segments:
        if len(parts) == 1:
            out.append(parts[0])
        elif parts:
            m, merged = _interleave(parts) or _merge_exact(parts)
            df += m - sum(map(_postings_in, parts))
            out.append(merged)
    return df, ",".join(out)


def max_fan_in() -> int:
    """How many runs one merge opens at once: ``MAX_FAN_IN``, or fewer when this
    process's open-file limit (``ulimit -n``) leaves less room."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_FAN_IN
    return max(2, min(MAX_FAN_IN, (soft - FDS_KEPT) // 2))


def _merged_terms(runs: List[str]) -> Iterator[Tuple[str, int, str]]:
    """``(term, df, postings)`` over ``runs``, one per term, in term order."""
    merged = heapq.merge(*(_run_lines(r) for r in runs))
    for term, group in groupby(merged, key=itemgetter(0)):
        df, encs = _merge_pieces([(d, e) for _, d, e in group])
        yield term, df, encs


def merge_passes(runs: List[str], fan_in: int) -> List[str]:
    """Merge runs ``fan_in`` at a time into bigger runs (beside the first) until at
    most ``fan_in`` are left, so that no merge opens more files than it may."""
    passes = 0
    while len(runs) > fan_in:
        merged: List[str] = []
        for i in range(0, len(runs), fan_in):
            group = runs[i:i + fan_in]
            if len(group) == 1:
                merged.append(group[0])
                continue
            path = f"{group[0]}.p{passes}"
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                for term, df, encs in _merged_terms(group):
                    out.write(f"{term}\t{df}\t{encs}\n")
            for r in group:
                os.remove(r)  # the disk holds each pass once
            merged.append(path)
        runs, passes = merged, passes + 1
    return runs


def reduce_partition(runs: List[str], out_path: str, fan_in: int = 0) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    runs = merge_passes(runs, fan_in or max_fan_in())
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        write = out.write
        for term, df, encs in _merged_terms(runs):
            write(f'{term}\t{{"df":{df},"postings":[')
            write(encs)  # written apart: a frequent term's postings can be many MB
            write("]}\n")
            key_counters(term, df, counts)
    return counts
