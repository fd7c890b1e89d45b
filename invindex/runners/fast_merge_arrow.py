"""The fast engine's reduce for Arrow runs (``invert_arrow.ArrowRun``): one partition's
runs merged by key, with Arrow kernels rather than a Python call per key.

The runs are read a record batch at a time (a k-way merge by blocks: every key up to
the smallest of the live runs' last buffered keys is complete in memory), so memory is
bounded by the number of runs, not by the partition. Each such chunk is sorted by
(key, first doc_id); a key whose pieces are disjoint in doc_id order (each piece's last
doc_id before the next one's first: the usual case) is its pieces concatenated, df
summed, all in C; only keys whose pieces overlap go through ``fast_merge``'s per-key
merge, the one the text runs use.
"""

from __future__ import annotations

from typing import BinaryIO, Dict, List, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..core.doctable import DOC_TABLE, STORED_TEXT
from .fast_merge import EDGE_MERGE_BYTES, _merge_pieces


def _batch_count(path: str) -> int:
    with pa.OSFile(path) as f:
        return pa.ipc.open_file(f).num_record_batches


def _read_batch(path: str, i: int) -> pa.Table:
    """Record batch ``i`` of a run (the file is opened for each read: a merge of many
    runs keeps no file open, so ``ulimit -n`` does not bound its fan-in)."""
    with pa.OSFile(path) as f:
        return pa.Table.from_batches([pa.ipc.open_file(f).get_batch(i)])


def _sorted_prefix_len(keys: pa.ChunkedArray, bound: str) -> int:
    """How many of the sorted ``keys`` are <= ``bound``."""
    return int(pc.sum(pc.less_equal(keys, pa.scalar(bound))).as_py() or 0)


def reduce_partition(runs: List[str], out_path: str) -> Dict[str, int]:
    """Merge ``runs`` (Arrow IPC run files) into the part file ``out_path``; returns the
    job counters (``core.doctable.key_counters``'s, for all keys at once)."""
    counts: Dict[str, int] = {}
    total = [_batch_count(r) for r in runs]
    read = [0] * len(runs)
    buffers: List[pa.Table | None] = [None] * len(runs)
    with open(out_path, "wb") as out:
        while True:
            for r, run in enumerate(runs):
                if (buffers[r] is None or not buffers[r].num_rows) and read[r] < total[r]:
                    buffers[r] = _read_batch(run, read[r])
                    read[r] += 1
            live = [r for r, b in enumerate(buffers) if b is not None and b.num_rows]
            if not live:
                break
            # Every key <= bound is in memory: a run with batches left holds only
            # keys after its buffer's last one.
            bounds = [buffers[r].column("key")[-1].as_py() for r in live
                      if read[r] < total[r]]
            pieces = []
            for r in live:
                buf = buffers[r]
                n = buf.num_rows if not bounds else _sorted_prefix_len(
                    buf.column("key"), min(bounds))
                pieces.append(buf.slice(0, n))
                buffers[r] = buf.slice(n)
            _merge_chunk(pa.concat_tables(pieces), out, counts)
    return counts


def _merge_chunk(table: pa.Table, out: BinaryIO, counts: Dict[str, int]) -> None:
    """Write the merged lines of ``table`` (every piece of its keys) to ``out``."""
    if not table.num_rows:
        return
    order = pc.sort_indices(table, sort_keys=[("key", "ascending"), ("first", "ascending")])
    key, first, last = (table.column(c).take(order).combine_chunks()
                        for c in ("key", "first", "last"))
    df = table.column("df").take(order).to_numpy()
    n = len(key)
    same = pc.equal(key.slice(1), key.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    # A piece that starts at or before the end of the one before it (ordered by first
    # doc_id) overlaps it: its key is merged posting by posting. Stored texts' pieces
    # (first = last = "") always count as overlapping.
    overlap = same & pc.greater_equal(last.slice(0, n - 1), first.slice(1)).to_numpy(
        zero_copy_only=False)
    new = np.concatenate(([True], ~same))
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    bad = np.zeros(len(starts), bool)
    bad[group[1:][overlap]] = True
    dfs = np.add.reduceat(df, starts)
    keys = key.take(pa.array(starts))
    if not bad.any():  # the usual case: every key's pieces only to be concatenated
        _write_concatenated(table.column("postings"), order.to_numpy(), starts, group,
                            line_heads(keys, dfs), out)
        _add_counts(keys, dfs, counts)
        return
    postings = table.column("postings").take(order).combine_chunks()
    ends = np.append(starts, n).astype(np.int32)
    encs = pc.binary_join(pa.ListArray.from_arrays(pa.array(ends), postings), ",")
    if bad.any():
        encs = _merge_overlapping(bad, group, ends, df, postings, dfs, encs)
    lines = pc.binary_join_element_wise(line_heads(keys, dfs), encs, "]}\n", "")
    out.write(_data(lines))
    _add_counts(keys, dfs, counts)


def line_heads(keys: pa.Array, dfs: np.ndarray) -> pa.Array:
    """Each index line's start, ``key<TAB>{"df":N,"postings":[``."""
    return pc.binary_join_element_wise(keys, '\t{"df":', pc.cast(pa.array(dfs), pa.string()),
                                       ',"postings":[', "")


def _write_concatenated(postings: pa.ChunkedArray, order: np.ndarray, starts: np.ndarray,
                        group: np.ndarray, heads: pa.Array, out: BinaryIO) -> None:
    """Write the index lines of keys whose pieces (``postings`` rows, ``order``ed by
    key and doc_id; ``starts``: each key's first, ``group``: each sorted row's key)
    are only concatenated: each line is its head, its pieces with ',' between and
    ']}\n' after, all copied at once by one ``take`` over [heads, separators, pieces]
    (no sorted copy of the pieces, no joined copy of each key's)."""
    n, g = len(order), len(starts)
    seps = pa.array([",", "]}\n"], pa.string())
    is_last = np.zeros(n, dtype=np.int64)
    is_last[np.append(starts[1:], n) - 1] = 1
    k = np.arange(n, dtype=np.int64)
    idx = np.empty(2 * n + g, dtype=np.int64)
    idx[2 * starts + np.arange(g)] = np.arange(g)
    idx[2 * k + group + 1] = g + 2 + order
    idx[2 * k + group + 2] = g + is_last
    pieces = pa.chunked_array([heads, seps, *postings.chunks], pa.string())
    for chunk in pc.take(pieces, pa.array(idx)).chunks:
        out.write(_data(chunk))


def _merge_overlapping(bad: np.ndarray, group: np.ndarray, ends: np.ndarray,
                       df: np.ndarray, postings: pa.Array, dfs: np.ndarray,
                       encs: pa.Array) -> pa.Array:
    """``encs`` (each group's pieces joined) with the ``bad`` (overlapping) groups'
    postings merged, their ``dfs`` set: small groups all at once (``_interleave_small``),
    big ones, repeated or escaped ids per group (``fast_merge._merge_pieces``, which
    merges big pieces at their edges only)."""
    size = np.add.reduceat(pc.binary_length(postings).to_numpy(zero_copy_only=False),
                           ends[:-1])
    small = bad & (size < EDGE_MERGE_BYTES)
    fast_groups, fast_df, fast_enc = _interleave_small(small, group, postings)
    slow = bad.copy()
    slow[fast_groups] = False
    slow_groups = np.flatnonzero(slow)
    slow_enc = []
    for g in slow_groups.tolist():
        a, b = int(ends[g]), int(ends[g + 1])
        dfs[g], enc = _merge_pieces(list(zip(df[a:b].tolist(),
                                             postings.slice(a, b - a).to_pylist(),
                                             strict=True)))
        slow_enc.append(enc)
    dfs[fast_groups] = fast_df
    # the replacements in group order, as replace_with_mask takes them
    done = np.concatenate((fast_groups, slow_groups))
    merged = pa.concat_arrays([fast_enc, pa.array(slow_enc, pa.string())])
    return pc.replace_with_mask(encs, pa.array(bad),
                                merged.take(pa.array(np.argsort(done, kind="stable"))))


def _interleave_small(small: np.ndarray, group: np.ndarray, postings: pa.Array
                      ) -> Tuple[np.ndarray, np.ndarray, pa.Array]:
    """(groups, df, postings) for the ``small`` groups merged at once, as
    ``fast_merge._interleave`` merges one: the pieces cut into postings at ',["', sorted
    by (group, doc_id), joined again. Groups with an escaped id or one ending in ',['
    (the raw text is then not the doc_id) or a doc_id in two pieces are left out."""
    rows = small[group]
    pieces = postings.filter(pa.array(rows))
    piece_group = group[rows]
    ok = np.ones(len(small), bool)
    raw = _data(pieces).to_pybytes()  # one C search over all the pieces, mostly
    if b"\\" in raw or b',[",' in raw:
        odd = pc.or_(pc.match_substring(pieces, "\\"), pc.match_substring(pieces, ',[",'))
        ok[piece_group[odd.to_numpy(zero_copy_only=False)]] = False
    del raw
    keep = ok[piece_group]
    if not keep.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64), pa.array([], pa.string())
    pieces, piece_group = pieces.filter(pa.array(keep)), piece_group[keep]
    frags = pc.split_pattern(pc.utf8_slice_codeunits(pieces, 2), ',["')
    frag_group = np.repeat(piece_group, pc.list_value_length(frags).to_numpy())
    frags = frags.flatten()
    docs = pc.list_element(pc.split_pattern(frags, '"', max_splits=1), 0)
    order = pc.sort_indices(pa.table({"g": frag_group, "d": docs}),
                            sort_keys=[("g", "ascending"), ("d", "ascending")])
    frag_group = frag_group[order.to_numpy()]
    docs = docs.take(order)
    k = len(frag_group)
    repeated = (frag_group[1:] == frag_group[:-1]) & pc.equal(
        docs.slice(1), docs.slice(0, k - 1)).to_numpy(zero_copy_only=False)
    ok[frag_group[1:][repeated]] = False
    new = np.concatenate(([True], frag_group[1:] != frag_group[:-1]))
    starts = np.flatnonzero(new)
    groups = frag_group[starts]
    enc = pc.binary_join_element_wise(
        '["', pc.binary_join(pa.ListArray.from_arrays(
            pa.array(np.append(starts, k).astype(np.int32)), frags.take(order)), ',["'), "")
    good = ok[groups]
    return (groups[good], np.diff(np.append(starts, k))[good],
            enc.filter(pa.array(good)))


def _data(lines: pa.Array) -> pa.Buffer:
    """The bytes of a string array's values, end to end (no copy)."""
    if not len(lines):
        return pa.py_buffer(b"")
    offsets = np.frombuffer(lines.buffers()[1], np.int32)[lines.offset:]
    return lines.buffers()[2].slice(int(offsets[0]), int(offsets[len(lines)] - offsets[0]))


def _add_counts(keys: pa.Array, dfs: np.ndarray, counts: Dict[str, int]) -> None:
    """``core.doctable.key_counters`` over all of a chunk's keys at once."""
    lead = pc.utf8_slice_codeunits(keys, 0, 1)
    table = pc.equal(lead, DOC_TABLE).to_numpy(zero_copy_only=False)
    term = ~table & ~pc.equal(lead, STORED_TEXT).to_numpy(zero_copy_only=False)
    for name, mask, value in (("table_documents", table, int(dfs[table].sum())),
                              ("terms", term, int(term.sum())),
                              ("postings", term, int(dfs[term].sum()))):
        if mask.any():
            counts[name] = counts.get(name, 0) + value
