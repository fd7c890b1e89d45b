"""Map: records -> intermediate lines ``term<TAB>doc_id<TAB>tf<TAB>p1,p2,...``.

One line per (term, record), then the record's document-table line (and its stored text,
with ``--store-text``): ``doctable``. Pure standard library: runs on cluster nodes.
"""

from __future__ import annotations

from .analysis import token_lists
from .doctable import doc_table_keys, doc_table_line, stored_text_line

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import List, Sequence, Tuple

    from .analysis import Analyzer, Grouped


def map_record(analyzer: Analyzer, doc_id: str, text: str) -> Tuple[List[str], int]:
    """Intermediate lines (no newline) for one record, and its number of indexed tokens:
    its terms', then its document-table line (and its stored text, if kept)."""
    tp = analyzer.term_position_texts(text)
    mid = f"\t{doc_id}\t"
    if analyzer.positions:
        out = [f"{term}{mid}{len(ps)}\t{','.join(ps)}" for term, ps in tp.items()]
    else:
        out = [f"{term}{mid}{len(ps)}\t" for term, ps in tp.items()]
    tokens = sum(map(len, tp.values()))
    out.append(doc_table_line(doc_id, tokens))
    if analyzer.store_text:
        out.append(stored_text_line(doc_id, text))
    return out, tokens


# tf as text for records shorter than this table (most): 1024, not more, as making
# each costs a streaming task's start
_NUMBERS = list(map(str, range(1 << 10)))


def kept_tokens(tp: Grouped) -> int:
    """A record's indexed tokens, from its grouping (``Analyzer.grouping_function``)."""
    lists = [ps for ps in tp.values() if ps.__class__ is list]
    return len(tp) - len(lists) + sum(map(len, lists))


def map_block(analyzer: Analyzer, doc_ids: Sequence[str], texts: Sequence[str]
              ) -> Tuple[str, int]:
    """``map_record``'s lines for many records as one text (each line ends ``\\n``; the
    records' term lines first, then their document-table lines), and their tokens.

    The streaming mapper's hot path: the block's texts tokenized at once
    (``analysis.token_lists``), then per record one compiled grouping call (a term seen
    once keeps its position, not a list: most lines have tf 1) and one comprehension of
    f-strings (tf from a table of number texts); the document-table
    lines are glued from columns by C-level passes.
    """
    if analyzer.store_text:  # compressing the text costs more than the lines
        out: List[str] = []
        tokens = 0
        for doc_id, text in zip(doc_ids, texts):
            lines, n = map_record(analyzer, doc_id, text)
            out += lines
            tokens += n
        out.append("")
        return "\n".join(out), tokens
    group = analyzer.grouping_function()
    numbers = _NUMBERS
    short = len(numbers)  # a record of fewer tokens has no tf that large
    out = []
    dls = []
    positions = analyzer.positions
    every = analyzer.keeps_every_token
    for doc_id, toks in zip(doc_ids, token_lists(texts)):
        tp = group(toks)
        mid = f"\t{doc_id}\t"
        one = f"{mid}1\t"  # a term seen once: tf 1, its position as it is
        if not positions:
            out += [f"{term}{one}" if ps.__class__ is str else f"{term}{mid}{len(ps)}\t"
                    for term, ps in tp.items()]
        elif len(toks) < short:
            out += [f"{term}{one}{ps}" if ps.__class__ is str else
                    f"{term}{mid}{numbers[len(ps)]}\t{','.join(ps)}"
                    for term, ps in tp.items()]
        else:
            out += [f"{term}{one}{ps}" if ps.__class__ is str else
                    f"{term}{mid}{len(ps)}\t{','.join(ps)}" for term, ps in tp.items()]
        dls.append(len(toks) if every else kept_tokens(tp))
    table = ["", "\t", "", "\t", "", "\t\n"] * len(doc_ids)
    table[0::6] = doc_table_keys(doc_ids)
    table[2::6] = doc_ids
    table[4::6] = list(map(str, dls))
    out.append("".join(table))  # ends with its newline, as the text must
    return "\n".join(out), sum(dls)
