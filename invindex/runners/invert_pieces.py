"""A batch's postings text, every term's at once, by one ``take`` over a table of pieces.

After the term sort, a term's line is a sequence of small texts that all come from a
few short tables: a document's head (``["doc_id",``, or ``,["doc_id",`` after the
term's first posting), a term frequency (``tf,[``; without positions ``tf]``) and
each position (``p``, ``,p``, ``p]]`` or ``,p]]``, by its place in the posting; a
posting of one position, most of them, is one piece ``1,[p]]``).
So one index array (numpy) says which piece comes where, one Arrow ``take`` copies the
pieces into one buffer, and each term's postings are a slice of that buffer (their
offsets read from the take's own offsets). Building the same text with a take of the
heads, casts, a join of the positions, an element-wise join of the postings and a join
per term cost 1.5x the CPU (one 14 MB batch: 0.58 s against 0.38): Arrow's kernels cost
per element, and this makes each byte of output once.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def numbers(count: int, prefix: str = "", suffix: str = "") -> pa.Array:
    """``prefix + str(i) + suffix`` for i in 0..count-1."""
    table = pc.cast(pa.array(np.arange(count)), pa.string())
    if prefix or suffix:
        table = pc.binary_join_element_wise(pa.scalar(prefix), table, pa.scalar(suffix), "")
    return table


def term_postings(doc: np.ndarray, pos: np.ndarray, gstart: np.ndarray,
                  goff: np.ndarray, tstart: np.ndarray, heads: pa.Array,
                  positions: bool) -> pa.Array:
    """Each term's postings text (``["id",tf,[p,...]],...``, without positions
    ``["id",tf],...``), for tokens sorted by (term, doc, position): ``doc`` and ``pos``
    per token, ``gstart``/``goff`` the postings' first token (``goff``: with the end),
    ``tstart`` each term's first posting, ``heads`` each document's ``["id",``."""
    n_docs, n_post = len(heads), len(gstart)
    tf = np.diff(goff)
    after_first = np.ones(n_post, dtype=bool)
    after_first[tstart] = False
    head_piece = doc[gstart] + after_first * n_docs
    tf_table = numbers(int(tf.max()) + 1, suffix=",[" if positions else "]")
    tf_piece = 2 * n_docs + tf
    tables = [heads, pc.binary_join_element_wise(pa.scalar(","), heads, ""), tf_table]
    if positions:
        # the stream, per posting: its head, then its tf and positions, or for a tf of
        # 1 (most postings) one piece '1,[p]]'
        n = len(pos)
        single = tf == 1
        width = np.where(single, 2, tf + 2)
        slot = np.zeros(n_post, dtype=np.int64)
        np.cumsum(width[:-1], out=slot[1:])
        count = int(pos.max()) + 1
        variant = np.ones(n, dtype=np.int64)  # 0: p, 1: ,p, 2: p]], 3: ,p]], 4: 1,[p]]
        variant[gstart] = 0
        variant[goff[1:] - 1] += 2
        variant[gstart[single]] = 4
        # a token's slot: its posting's first position's slot, plus its place in it
        tok_slot = np.repeat(slot + 2 - single - gstart, tf)
        tok_slot += np.arange(n, dtype=np.int64)
        idx = np.empty(int(slot[-1] + width[-1]), dtype=np.int64)
        variant *= count  # the piece: its table's start, plus the position
        variant += pos
        variant += 2 * n_docs + len(tf_table)
        idx[tok_slot] = variant
        del variant, tok_slot
        tables += [numbers(count), numbers(count, ","), numbers(count, suffix="]]"),
                   numbers(count, ",", "]]"), numbers(count, "1,[", "]]")]
        idx[slot] = head_piece
        idx[slot[~single] + 1] = tf_piece[~single]
    else:
        slot = np.arange(n_post, dtype=np.int64) * 2
        idx = np.empty(2 * n_post, dtype=np.int64)
        idx[slot] = head_piece
        idx[slot + 1] = tf_piece
    taken = pc.take(pa.concat_arrays(tables), pa.array(idx))
    del idx
    offsets = np.frombuffer(taken.buffers()[1], np.int32)[taken.offset:
                                                           taken.offset + len(taken) + 1]
    bounds = offsets[np.append(slot[tstart], len(taken))]
    return pa.Array.from_buffers(pa.string(), len(tstart),
                                 [None, pa.py_buffer(bounds), taken.buffers()[2]])
