"""The fast engine's pure-Python inverter (no numpy/pyarrow needed): a batch's run lines."""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from itertools import groupby
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Dict, List, Tuple

from ..core.analysis import Analyzer
from .fast_doctable import doc_run_lines


def _merge_positions(dicts: List[Dict[str, List[int]]]) -> Dict[str, List[int]]:
    """Term positions of records sharing a doc_id: tf summed, positions merged."""
    out: Dict[str, List[int]] = {}
    for d in dicts:
        for term, ps in d.items():
            out.setdefault(term, []).extend(ps)
    return {t: sorted(ps) for t, ps in out.items()}


class PyRun(list):
    """A batch's run lines (term-sorted ``term<TAB>df<TAB>postings``) as a list."""

    SUFFIX = ""  # a text file (``fast_merge``)

    def write_parts(self, paths: List[str], part_of) -> None:
        with ExitStack() as stack:
            files = [stack.enter_context(open(p, "w", encoding="utf-8", newline="\n"))
                     for p in paths]
            for line in self:
                f = files[part_of(line[:line.index("\t")])] if len(files) > 1 else files[0]
                f.write(line)
                f.write("\n")


def invert_py(records: List[Tuple[str, str]], analyzer: Analyzer,
              unique_ids: bool) -> Tuple[PyRun, int]:
    """Run lines for doc_id-sorted records, in pure Python (no numpy/pyarrow needed)."""
    term_positions = analyzer.term_positions
    with_positions = analyzer.positions
    postings: Dict[str, List[str]] = defaultdict(list)
    tokens = 0
    groups = [(d, [t]) for d, t in records] if unique_ids else [
        (d, [t for _, t in g]) for d, g in groupby(records, key=itemgetter(0))]
    lengths: List[int] = []
    for doc_id, texts in groups:
        tp = term_positions(texts[0]) if len(texts) == 1 else _merge_positions(
            [term_positions(t) for t in texts])
        head = "[" + encode_basestring(doc_id) + ","
        dl = 0
        for term, ps in tp.items():
            n = len(ps)
            dl += n
            if not with_positions:
                postings[term].append(f"{head}{n}]")
            elif n == 1 and ps[0] < len(_ONE):
                postings[term].append(head + _ONE[ps[0]])
            else:
                postings[term].append(f"{head}{n},[{','.join(map(str, ps))}]]")
        lengths.append(dl)
        tokens += dl
    _, doc_lines = doc_run_lines([d for d, _ in groups], lengths,
                                 [t for _, t in groups] if analyzer.store_text else None)
    return PyRun(doc_lines + [f"{t}\t{len(postings[t])}\t{','.join(postings[t])}"
                              for t in sorted(postings)]), tokens


_ONE = [f"1,[{i}]]" for i in range(4096)]  # the most common posting tail, premade
