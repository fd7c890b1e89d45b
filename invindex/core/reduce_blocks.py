"""The streaming reducer, a block at a time: what ``scripts/reducer.py`` runs.

A block of plain lines (exactly three tabs each, a canonical tf, no byte JSON would
escape, in strictly increasing (term, doc_id) order, the checks all C-level passes over
the block) is formatted with no Python code per line; anything else goes through
``reduce_lines.LineReducer.feed_lines``. A property test holds the two paths equal.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from itertools import compress, islice
from operator import ge, lt

from .doctable import key_counters
from .reduce_lines import LineReducer, decode_lines

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import List

# Bytes a block may hold for the block-at-a-time path: anything but the separators and
# what JSON would escape in a doc_id (``"``, backslash, C0 controls).
_PLAIN_BYTES = bytes(b for b in range(256) if b >= 0x20 and b not in b'"\\')
_LINE_SEPS = b"\t\t\t\n"
# A posting as glue around its fields: ``["`` doc ``",`` tf ``,[`` positions ``]],``;
# the last posting of a term ends ``]]]}\n`` instead (or ``]]`` while the term is open).
_GLUE = ['["', "", '",', "", ",[", "", "]],"]
_GLUE_NOPOS = ['["', "", '",', "", "", "", "],"]
_END = {True: "]]]}\n", False: "]]}\n"}  # by whether the term has positions
_OPEN_END = {True: "]]", False: "]"}
# int() refuses decimals longer than this (Python 3.11, and 3.9 from 3.9.14: 4300)
_INT_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 0)() or 1 << 62


def _runs(terms: List[str]) -> List[int] | None:
    """Where each run of one term starts, found by bisection as if ``terms`` were
    sorted, and checked: None unless each run holds its term only (with the runs' terms
    strictly increasing, which the caller checks, the list is sorted). A term runs 60
    lines on average in real text's sorted map output, so a bisection and a
    ``list.count`` per run cost less than comparing every line with the next."""
    starts = []
    n = len(terms)
    a = 0
    while a < n:
        t = terms[a]
        b = bisect_right(terms, t, a)
        if terms[a:b].count(t) != b - a:
            return None
        starts.append(a)
        a = b
    return starts


class Reducer(LineReducer):
    """``LineReducer`` fed the bytes of whole lines, a block at a time (``feed``).

    A block of plain lines is checked by C-level passes, split into fields at once and
    its postings glued from them: a list ``["``, doc, ``",``, tf, ``,[``, positions,
    ``]],`` per line filled by slice assignments, a term's head and tail set per term,
    one ``join``. Any other block goes through ``feed_lines``. Both share the open
    term's state, so a block may start or end inside a term.
    """

    def feed(self, block: bytes) -> None:
        if not (block.endswith(b"\n") and self._feed_plain(block)):
            self.feed_lines(decode_lines(block))

    def _feed_plain(self, block: bytes) -> bool:
        """The block-at-a-time path; False (nothing changed) when the block needs the
        line path."""
        seps = block.translate(None, _PLAIN_BYTES)
        n = len(seps) >> 2
        if len(seps) != 4 * n or seps.count(_LINE_SEPS) != n:
            return False  # a line without exactly 3 tabs, or a byte to escape
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            return False
        flat = text.replace("\n", "\t").split("\t")
        flat.pop()
        terms = flat[0::4]
        docs = flat[1::4]
        tfs = flat[2::4]
        tf_text = "\t" + "\t".join(tfs) + "\t"
        digits = tf_text.replace("\t", "")
        if not (digits.isascii() and digits.isdigit()) or "\t\t" in tf_text or (
                tf_text.count("\t0") != tf_text.count("\t0\t")) or (
                len(digits) > _INT_DIGITS and max(map(len, tfs)) > _INT_DIGITS):
            return False  # a tf that int() would reject or print differently
        starts = _runs(terms)
        if starts is None:
            return False
        heads = list(map(terms.__getitem__, starts))
        if not all(map(lt, heads, islice(heads, 1, None))):
            return False  # with each run one term: the terms strictly sorted by run
        if not set(compress(range(1, n), map(ge, docs, islice(docs, 1, None)))
                   ).issubset(starts):
            return False  # a doc_id repeated or out of order within a term
        term = self.term
        if term is not None and (heads[0] < term or (
                heads[0] == term and docs[0] <= self.prev_doc)):
            return False
        poss = flat[3::4]
        empty = poss.count("")
        ends = starts[1:]
        ends.append(n)
        glue = (_GLUE_NOPOS if empty == n else _GLUE) * n
        glue[1::7] = docs
        glue[3::7] = tfs
        glue[5::7] = poss
        kinds = [empty != n] * len(starts)  # per term: has positions
        if 0 < empty < n:
            for g, (a, b) in enumerate(zip(starts, ends)):
                e = poss[a:b].count("")
                if e:
                    if e != b - a:
                        return False  # positions on some postings of a term only
                    glue[7 * a + 4:7 * b:7] = [""] * e
                    glue[7 * a + 6:7 * b:7] = ["],"] * e
                    kinds[g] = False
        # Checked: from here on the block is consumed.
        out, counts = self.out, self.counts
        last = len(starts) - 1
        first = 0  # the first term that starts in this block
        if term is not None and heads[0] == term:  # the open term goes on
            if last:
                e = ends[0]
                glue[7 * e - 1] = _OPEN_END[kinds[0]]
                self.chunks.append(",".join(self.pending))
                self.chunks.append("".join(glue[:7 * e]))
                self._close(term, self.df + e, self.chunks, [])
                first = 1
        elif term is not None:
            self._close(term, self.df, self.chunks, self.pending)
        for a, b, t, p in zip(starts[first:last], ends[first:last], heads[first:last],
                              kinds[first:last]):
            glue[7 * a] = f'{t}\t{{"df":{b - a},"postings":[["'
            glue[7 * b - 1] = _END[p]
            key_counters(t, b - a, counts)
        a = starts[last]
        if first < last:
            out.append("".join(glue[7 * starts[first]:7 * a]))
        # The last term stays open (the next block may go on with it); its last posting
        # is kept apart, as its line too, in case the next line repeats its doc_id.
        if last == 0 and heads[0] == term:
            df, chunks = self.df + n, self.chunks
            chunks.append(",".join(self.pending))
        else:
            df, chunks = n - a, []
        tail = _OPEN_END[kinds[last]]
        if a < n - 1:
            glue[7 * n - 8] = tail
            chunks.append("".join(glue[7 * a:7 * n - 7]))
        glue[-1] = tail
        self.term, self.df, self.chunks = heads[last], df, chunks
        self.pending = ["".join(glue[7 * n - 7:])]
        self.prev_doc = docs[-1]
        self.prev_line = "\t".join(flat[-4:])
        return True
