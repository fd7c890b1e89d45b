"""Invert one batch of records with numpy and pyarrow: the fast engine's hot loop.

Latin-1 text (ASCII included) is tokenized by numpy table lookups built from Python's
own ``str.lower``/``str.isalnum``, other text by ``re.findall`` with the contract's
pattern, so the tokens are exactly the contract's; everything per token or per
posting after that runs in C: tokens are dictionary-encoded, stably sorted by term
(which keeps (doc, position) order inside a term, as the records are already in
doc_id order), and the terms' postings text is one Arrow ``take`` over a table of
pieces (``invert_pieces``). Analyzer options work on the dictionary (one entry per
distinct token), so stemming and stopword tests cost per distinct word, not per
occurrence.

Output: run lines ``term<TAB>df<TAB>postings`` exactly as ``invert_py`` writes them.
"""

from __future__ import annotations

import re
import zlib
from itertools import groupby
from json.encoder import encode_basestring
from operator import itemgetter
from typing import List, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.analysis import TOKEN_RE, Analyzer
from ..core.doctable import BUCKETS, bucket_key
from .fast_doctable import text_run_lines
from .invert_pieces import term_postings

_TOKENS_AND_BREAKS = re.compile(TOKEN_RE.pattern + r"|\n").findall


def _filtered_dictionary(dic: pa.Array, analyzer: Analyzer) -> Tuple[np.ndarray, pa.Array]:
    """Per dictionary entry: kept?, and the terms after stemming (a new dictionary).
    Kernels over the dictionary (length in code points, as ``len``), Python only for
    stemming."""
    lengths = pc.utf8_length(dic)
    drop = pc.equal(dic, "\n")
    if analyzer.min_token_length > 1:
        drop = pc.or_(drop, pc.less(lengths, analyzer.min_token_length))
    if analyzer.max_token_length is not None:
        drop = pc.or_(drop, pc.greater(lengths, analyzer.max_token_length))
    if analyzer.stopwords:
        drop = pc.or_(drop, pc.is_in(dic, value_set=pa.array(sorted(analyzer.stopwords),
                                                              pa.string())))
    keep = ~drop.to_numpy(zero_copy_only=False)
    if not analyzer.stem:
        return keep, dic
    from ..core.stemmer import stem

    words: List[str] = dic.to_pylist()
    return keep, pa.array([stem(w) if k else w for w, k in zip(words, keep, strict=True)],
                          pa.string())


# Latin-1 text (ASCII included) is tokenized with numpy, with tables built from Python's
# own str.lower() and str.isalnum(), so the tokens are exactly the contract's.
_LOWER = np.array([ord(chr(c).lower()) for c in range(256)], dtype=np.uint8)
_IS_TOKEN = np.array([chr(c).lower().isalnum() for c in range(256)], dtype=bool)
assert all(len(chr(c).lower()) == 1 and ord(chr(c).lower()) < 256 for c in range(256))
# The same as bytes.translate tables: one C pass over the text each, no numpy gather.
_LOWER_TABLE = _LOWER.tobytes()
_IS_TOKEN_TABLE = _IS_TOKEN.astype(np.uint8).tobytes()
_NOT_TOKEN = bytes(c for c in range(256) if not _IS_TOKEN[c])

Tokenized = Tuple[np.ndarray, pa.Array, np.ndarray, np.ndarray]


def _tokenize_latin1(big: str) -> Tokenized | None:
    """(dictionary index per token, dictionary, record, position) for ``\n``-joined
    texts, or None when the text has characters beyond Latin-1."""
    try:
        raw = big.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return _tokenize_bytes(raw, raw.isascii())


def _tokenize_bytes(raw: bytes, ascii: bool) -> Tokenized:
    """``_tokenize_latin1`` of the Latin-1 bytes ``raw`` (``ascii``: all below 0x80,
    so the tokens' bytes are their UTF-8 already)."""
    lowered = raw.translate(_LOWER_TABLE)
    is_tok = np.frombuffer(lowered.translate(_IS_TOKEN_TABLE), dtype=bool)
    padded = np.zeros(len(is_tok) + 2, dtype=bool)
    padded[1:-1] = is_tok
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # a token's start, then its end
    del padded
    starts, ends = edges[0::2].copy(), edges[1::2].copy()
    del edges
    breaks = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    # each record's first token (one search per record, not per token), then each
    # token's record and position by repeating per record
    first = np.empty(len(breaks) + 2, dtype=np.int64)
    first[0], first[-1] = 0, len(starts)
    first[1:-1] = np.searchsorted(starts, breaks)
    counts = np.diff(first)
    # int32: a batch has far fewer than 2**31 tokens
    rec = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    pos = np.arange(len(starts), dtype=np.int32)
    pos -= np.repeat(first[:-1].astype(np.int32), counts)
    del first, counts
    data = lowered.translate(None, _NOT_TOKEN)  # the tokens' bytes, now contiguous
    del lowered, is_tok
    offsets = np.zeros(len(starts) + 1, dtype=np.int32)
    np.cumsum(ends - starts, out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    if ascii:
        enc = pc.dictionary_encode(pa.Array.from_buffers(pa.string(), len(starts), buffers))
        dic = enc.dictionary
    else:  # Latin-1 bytes are not UTF-8: decode the distinct tokens only
        enc = pc.dictionary_encode(pa.Array.from_buffers(pa.binary(), len(starts), buffers))
        dic = _latin1_to_utf8(enc.dictionary)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    return idx, dic, rec, pos


def _latin1_to_utf8(words: pa.Array) -> pa.Array:
    """A binary array of Latin-1 strings as a string array (UTF-8): one decode of all
    the bytes, the offsets moved by the bytes >= 0x80 before them (each one 2 in
    UTF-8)."""
    offsets = np.frombuffer(words.buffers()[1], np.int32)[words.offset:
                                                           words.offset + len(words) + 1]
    data = np.frombuffer(words.buffers()[2], np.uint8)[offsets[0]:offsets[-1]]
    high = np.zeros(len(data) + 1, np.int32)
    np.cumsum(data >= 0x80, out=high[1:])
    moved = (offsets - offsets[0]) + high[offsets - offsets[0]]
    utf8 = data.tobytes().decode("latin-1").encode("utf-8")
    return pa.Array.from_buffers(pa.string(), len(words),
                                 [None, pa.py_buffer(moved.astype(np.int32)),
                                  pa.py_buffer(utf8)])


def _tokenize_python(big: str) -> Tokenized:
    """The same with ``re.findall`` over the lowered text: any Unicode text."""
    toks = _TOKENS_AND_BREAKS(big.lower())
    toks.append("\n")
    enc = pc.dictionary_encode(pa.array(toks, pa.string()))
    del toks
    idx = enc.indices.to_numpy(zero_copy_only=False)
    is_break = idx == enc.dictionary.index("\n").as_py()
    rec = np.cumsum(is_break) - is_break
    breaks = np.flatnonzero(is_break)
    rec_start = np.concatenate(([0], breaks[:-1] + 1))
    pos = np.arange(len(idx)) - rec_start[rec]
    keep = ~is_break
    # the break entry stays in the dictionary; no token refers to it any more
    return idx[keep], enc.dictionary, rec[keep], pos[keep]


class ArrowRun:
    """A batch's run as Arrow columns, in key order: ``key``, ``df``, ``postings`` (no
    Python string per line), and each line's ``first`` and ``last`` doc_id (raw, not
    JSON-escaped; empty where the postings are not keyed by doc_id, as stored texts'),
    which let the merge tell disjoint pieces from overlapping ones without parsing."""

    SUFFIX = ".arrow"

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    @classmethod
    def of(cls, keys: pa.Array, df: np.ndarray, first: pa.Array, last: pa.Array,
           postings: pa.Array) -> ArrowRun:
        return cls(pa.table({"key": keys, "df": pa.array(df, pa.int64()), "first": first,
                             "last": last, "postings": postings}))

    def with_documents(self, documents: ArrowRun) -> ArrowRun:
        """This run after the document-table (and stored-text) lines, as their keys
        sort before every term."""
        return ArrowRun(pa.concat_tables([documents.table, self.table]).combine_chunks())

    def lines(self) -> List[str]:
        """``key<TAB>df<TAB>postings`` lines, as ``PyRun`` holds them (for tests)."""
        t = self.table.to_pydict()
        return [f"{k}\t{d}\t{p}" for k, d, p in zip(t["key"], t["df"], t["postings"],
                                                   strict=True)]

    def __eq__(self, other: object) -> bool:  # for tests: compare with a list of lines
        return self.lines() == (other.lines() if isinstance(other, ArrowRun) else other)

    def write_parts(self, paths: List[str], part_of=None) -> None:
        """Write each line to the run file of its key's partition (``part_of``, the
        per-key function ``PyRun`` uses, is computed here for all keys at once)."""
        parts = partitions(self.table.column("key").combine_chunks(), len(paths))
        for p, path in enumerate(paths):
            table = self.table if len(paths) == 1 else self.table.filter(pa.array(parts == p))
            write_run(table.combine_chunks(), path)


# A run file's record batches hold about this many bytes of postings, so that the merge
# reads a run a piece at a time.
RUN_BATCH_BYTES = 2 << 20


def write_run(table: pa.Table, path: str) -> None:
    """``table`` as an Arrow IPC file of record batches of about ``RUN_BATCH_BYTES``."""
    sizes = pc.binary_length(table.column("postings")).to_numpy(zero_copy_only=False)
    cum = np.cumsum(sizes)
    total = int(cum[-1]) if len(cum) else 0
    cuts = np.searchsorted(cum, np.arange(RUN_BATCH_BYTES, total, RUN_BATCH_BYTES),
                           side="right").tolist()
    bounds = [0, *sorted(set(cuts) - {0, len(sizes)}), len(sizes)]
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        for a, b in zip(bounds, bounds[1:], strict=False):
            writer.write_table(table.slice(a, b - a))


def partitions(terms: pa.Array, parts: int) -> np.ndarray:
    """``core.indexfmt.partition_of`` for every term at once: Hadoop's hash of the UTF-8
    bytes (h = 31 h + signed byte, 32 bits), one numpy pass per byte position."""
    if parts <= 1:
        return np.zeros(len(terms), np.int32)
    offsets = np.frombuffer(terms.buffers()[1], np.int32)[
        terms.offset:terms.offset + len(terms) + 1].astype(np.int64)
    data = np.frombuffer(terms.buffers()[2], np.int8).astype(np.uint32)
    h = np.zeros(len(terms), np.uint32)
    live = np.arange(len(terms))
    start, lens = offsets[:-1], np.diff(offsets)
    k = 0
    while True:
        live = live[lens[live] > k]
        if not len(live):
            break
        h[live] = h[live] * np.uint32(31) + data[start[live] + k]
        k += 1
    return ((h & np.uint32(0x7FFFFFFF)) % np.uint32(parts)).astype(np.int32)


def invert_arrow(records: List[Tuple[str, str]], analyzer: Analyzer,
                 unique_ids: bool) -> Tuple[ArrowRun, int]:
    """Run lines (term-sorted) and the token count for doc_id-sorted ``records``.

    ``unique_ids``: no doc_id repeats in ``records`` (else their postings are merged).
    """
    if not records:
        return _EMPTY, 0
    # Documents: records sharing a doc_id are one document.
    ids = [d for d, _ in records]
    if unique_ids:
        doc_ids = ids
        doc_of_rec = None
    else:
        first = np.array([i == 0 or ids[i] != ids[i - 1] for i in range(len(ids))])
        doc_of_rec = np.cumsum(first) - 1
        doc_ids = [d for d, f in zip(ids, first, strict=True) if f]
    id_array = pa.array(doc_ids, pa.string())
    heads = _heads(doc_ids, id_array)
    run, tokens, lengths = _invert_terms(_tokenize(records), analyzer, doc_of_rec, heads,
                                         id_array)
    documents = _doc_table(doc_ids, heads, lengths, id_array)
    if analyzer.store_text:
        texts = [[t] for _, t in records] if unique_ids else [
            [t for _, t in g] for _, g in groupby(records, key=itemgetter(0))]
        text_keys, text_lines = text_run_lines(doc_ids, texts)
        none = pa.array([""] * len(text_keys), pa.string())  # blobs, not doc_ids
        stored = ArrowRun.of(
            pa.array(text_keys, pa.string()),
            np.array([int(ln.split("\t", 2)[1]) for ln in text_lines], np.int64),
            none, none, pa.array([ln.split("\t", 2)[2] for ln in text_lines], pa.string()))
        documents = ArrowRun(pa.concat_tables([documents.table, stored.table]))
    return run.with_documents(documents), tokens


def invert_lines(lines: bytes, analyzer: Analyzer) -> Tuple[ArrowRun, int] | None:
    """``invert_arrow`` of good records' undecoded lines (``lines``: each ends with
    ``\n``; every line has a tab after a non-empty doc_id, as ``fast_read.clean_ids``
    checked), in any order, without making a Python record of each: the doc_ids are
    sorted by Arrow, and the texts taken in that order into one buffer that the byte
    tokenizer reads as it is (ASCII) or after one conversion (Latin-1). None where
    this does not apply (text beyond Latin-1, a repeated doc_id, stored texts): the
    caller decodes the lines into records."""
    if not lines or analyzer.store_text:
        return None
    sorted_lines = _sorted_tokens(lines)
    if sorted_lines is None:
        return None
    id_array, tokenized = sorted_lines
    del sorted_lines
    doc_ids = id_array.to_pylist()
    heads = _heads(doc_ids, id_array)
    run, tokens, lengths = _invert_terms(tokenized, analyzer, None, heads, id_array)
    return run.with_documents(_doc_table(doc_ids, heads, lengths, id_array)), tokens


def _sorted_tokens(lines: bytes) -> Tuple[pa.Array, Tokenized] | None:
    """The doc_ids of ``lines`` in order, and the tokens of their texts taken in that
    order; None when a doc_id repeats or a text has a character beyond Latin-1."""
    chars = np.frombuffer(lines, np.uint8)
    ends = np.flatnonzero(chars == 10)
    n = len(ends)
    tabs = np.flatnonzero(chars == 9)
    del chars
    # Each line as two pieces, its doc_id and the rest ("\ttext\n"): one string array
    # over the same buffer (offsets: line start, first tab, next line start, ...).
    offsets = np.empty(2 * n + 1, np.int32)  # a batch is far below 2 GB
    offsets[0], offsets[2::2] = 0, ends + 1
    offsets[1::2] = tabs[np.searchsorted(tabs, offsets[0:-1:2])]
    del ends, tabs
    pieces = pa.Array.from_buffers(pa.string(), 2 * n,
                                   [None, pa.py_buffer(offsets), pa.py_buffer(lines)])
    ids = pieces.take(pa.array(np.arange(0, 2 * n, 2)))
    order = pc.sort_indices(ids).to_numpy()
    id_array = ids.take(pa.array(order))
    del ids
    if n > 1 and pc.any(pc.equal(id_array.slice(1), id_array.slice(0, n - 1))).as_py():
        return None
    texts = pieces.take(pa.array(2 * order + 1))  # "\ttext\n" in doc_id order
    del pieces, order
    bounds = np.frombuffer(texts.buffers()[1], np.int32)[texts.offset:texts.offset + n + 1]
    # the tab before each text is no token, and the last newline no record break
    chars = np.frombuffer(texts.buffers()[2], np.uint8)[bounds[0]:bounds[-1] - 1]
    raw = chars.tobytes()
    del texts, chars
    if raw.isascii():
        return id_array, _tokenize_bytes(raw, True)
    try:  # UTF-8 of Latin-1 text (as the record path's _tokenize_latin1 takes it)
        latin1 = raw.decode("utf-8").encode("latin-1")
    except UnicodeEncodeError:
        return None
    del raw
    return id_array, _tokenize_bytes(latin1, False)


def _heads(doc_ids: List[str], ids: pa.Array) -> pa.Array:
    """Each document's posting head, ``["doc_id",`` (the id JSON-encoded: a doc_id has
    no control character, so only '"' and '\\' need escaping, and mostly none does);
    ``ids``: ``doc_ids`` as an Arrow array."""
    if pc.any(pc.match_substring_regex(ids, r'["\\]')).as_py():
        return pa.array(["[" + encode_basestring(d) + "," for d in doc_ids], pa.string())
    return pc.binary_join_element_wise(pa.scalar('["'), ids, pa.scalar('",'), "")


def _doc_table(doc_ids: List[str], heads: pa.Array, lengths: np.ndarray, ids: pa.Array
               ) -> ArrowRun:
    """The document table's run lines, as ``fast_doctable.doc_run_lines`` writes them:
    a document's bucket (crc32 of its id, as ``core.doctable.doc_table_key``) is one
    zlib call in Python, the grouping and the lines are numpy and Arrow kernels."""
    bucket = np.fromiter(map(zlib.crc32, map(str.encode, doc_ids)), np.int64,
                         count=len(doc_ids)) & (BUCKETS - 1)
    order = np.argsort(bucket, kind="stable")  # doc_id order within a bucket
    bucket = bucket[order]
    entries = pc.binary_join_element_wise(
        pc.take(heads, pa.array(order)), pc.cast(pa.array(lengths[order]), pa.string()),
        pa.scalar("]"), "")
    start = np.flatnonzero(np.diff(bucket, prepend=-1))
    off = np.append(start, len(bucket)).astype(np.int32)
    keys = list(map(bucket_key, bucket[start].tolist()))
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(off), entries), ",")
    return ArrowRun.of(pa.array(keys, pa.string()), np.diff(off),
                       pc.take(ids, pa.array(order[start])),
                       pc.take(ids, pa.array(order[off[1:] - 1])), joined)


def _tokenize(records: List[Tuple[str, str]]) -> Tokenized:
    big = "\n".join([t for _, t in records])
    return _tokenize_latin1(big) or _tokenize_python(big)


def _invert_terms(tokenized: Tokenized, analyzer: Analyzer,
                  doc_of_rec: np.ndarray | None, heads: pa.Array, ids: pa.Array
                  ) -> Tuple[ArrowRun, int, np.ndarray]:
    """The term lines, the token count, and each document's indexed tokens, for the
    records' tokens (their record and position; records in doc_id order); ``heads``
    are the documents' posting heads, ``["doc_id",``, and ``ids`` their doc_ids."""
    raw_idx, dic, rec, pos = tokenized
    del tokenized  # big temporaries are dropped as soon as they are used: memory is
    idx = raw_idx  # what bounds the batch size
    keep, terms = _filtered_dictionary(dic, analyzer)
    if analyzer.stem:
        stemmed = pc.dictionary_encode(terms)
        idx = stemmed.indices.to_numpy(zero_copy_only=False).astype(np.int64)[idx]
        terms = stemmed.dictionary
    if not keep.all():  # (every token kept: no copies)
        sel = keep[raw_idx]
        idx, rec, pos = idx[sel], rec[sel], pos[sel]
        del sel
    del raw_idx
    tokens = int(len(idx))
    doc = rec if doc_of_rec is None else doc_of_rec[rec]
    lengths = np.bincount(doc, minlength=len(heads))
    if not tokens:
        return _EMPTY, 0, lengths
    unique_ids = doc_of_rec is None
    # Term rank in byte order (= code point order of the str).
    order = pc.sort_indices(terms).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    trank = rank[idx]
    del idx, rec
    if unique_ids:  # tokens are in (doc, pos) order already: a stable sort by term,
        key = trank  # (trank << 32) | token: as a plain sort (3x faster), in place
        key <<= 32
        key |= np.arange(len(key))
        key.sort()
        # doc and position gathered as one int64: one random-access pass, not two
        both = doc.astype(np.int64)
        both <<= 32
        both |= pos
        both = both[key & 0xFFFFFFFF]
        key >>= 32
        trank = key
        del key
        doc, pos = both >> 32, both & 0xFFFFFFFF
        del both
    else:
        perm = np.lexsort((pos, doc, trank))
        trank, doc, pos = trank[perm], doc[perm], pos[perm]
        del perm
    n = len(trank)
    # Postings: runs of equal (term, doc).
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    new_group[1:] = (trank[1:] != trank[:-1]) | (doc[1:] != doc[:-1])
    gstart = np.flatnonzero(new_group)
    goff = np.append(gstart, n).astype(np.int32)
    # Terms: runs of equal term over the postings.
    gterm = trank[gstart]
    new_term = np.empty(len(gterm), dtype=bool)
    new_term[0] = True
    new_term[1:] = gterm[1:] != gterm[:-1]
    tstart = np.flatnonzero(new_term)
    toff = np.append(tstart, len(gterm)).astype(np.int32)
    joined = term_postings(doc, pos, gstart, goff, tstart, heads, analyzer.positions)
    gdoc = doc[gstart]
    del doc, pos
    term_str = pc.take(terms, pa.array(order[gterm[tstart]]))
    first = pc.take(ids, pa.array(gdoc[tstart]))
    last = pc.take(ids, pa.array(gdoc[toff[1:] - 1]))
    return ArrowRun.of(term_str, np.diff(toff), first, last, joined), tokens, lengths


_NO_STRINGS = pa.array([], pa.string())
_EMPTY = ArrowRun.of(_NO_STRINGS, np.zeros(0, np.int64), _NO_STRINGS, _NO_STRINGS,
                     _NO_STRINGS)
