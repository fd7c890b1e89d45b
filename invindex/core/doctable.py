"""The document table and the stored texts: pseudo-terms that ride the same job as terms.

A term is a run of alphanumeric characters, so a key that starts with ``!`` (0x21) or
``#`` (0x23) can never be a term, and in byte order it sorts before every term: inside
a part these lines come first and bisecting for a term is unaffected.

- Document table: for every record the mapper emits ``!XXX<TAB>doc_id<TAB>dl<TAB>``
  (no positions), ``XXX`` = three lowercase hex digits of ``crc32(doc_id) & 0xfff``
  (4096 buckets) and ``dl`` = the record's indexed tokens (0 for a record with none: it
  is still a document). The shuffle and the reducer treat it as any term: records
  sharing a doc_id add up (one document, lengths summed) and the reducer writes
  ``!XXX<TAB>{"df":K,"postings":[["d1",5],["d2",7]]}``.
- Stored text (``--store-text``): the mapper emits ``#doc_id<TAB>BLOB<TAB>1<TAB>``,
  BLOB = base64 of the zlib-compressed UTF-8 text; the reducer writes
  ``#doc_id<TAB>{"df":1,"postings":[["BLOB",1]]}`` (a doc_id in several records has
  one posting per distinct record text, in BLOB order). One line per document, so a
  snippet costs one bisection and reads only that document's text.

Pure standard library: this runs on cluster nodes (Python 3.9).
"""

from __future__ import annotations

# binascii is what base64.b64encode/b64decode call: base64 itself (with struct and re)
# would cost every streaming task's start
import zlib
from binascii import a2b_base64, b2a_base64

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import Iterable, List

DOC_TABLE = "!"
STORED_TEXT = "#"
BUCKETS = 4096


# "!000" .. "!fff", made on first use: 4096 strings cost a streaming task's start ~3 ms,
# and the reducer never needs them
_KEYS: List[str] | None = None


def _keys() -> List[str]:
    global _KEYS
    if _KEYS is None:
        _KEYS = list(map("!%03x".__mod__, range(BUCKETS)))
    return _KEYS


def doc_table_key(doc_id: str) -> str:
    return _keys()[zlib.crc32(doc_id.encode("utf-8")) & (BUCKETS - 1)]


def bucket_key(bucket: int) -> str:
    """The document table's key of a bucket (``crc32(doc_id) & (BUCKETS - 1)``)."""
    return _keys()[bucket]


def doc_table_keys(doc_ids: Iterable[str]) -> List[str]:
    """``doc_table_key`` of each id, in C-level passes (the streaming mapper's blocks)."""
    return list(map(_keys().__getitem__, map((BUCKETS - 1).__and__, map(
        zlib.crc32, map(str.encode, doc_ids)))))


def doc_table_line(doc_id: str, dl: int) -> str:
    """The intermediate line that records one record's length."""
    return f"{doc_table_key(doc_id)}\t{doc_id}\t{dl}\t"


def doc_id_key(doc_id: str) -> str:
    """The stored-text key of a document."""
    return STORED_TEXT + doc_id


def encode_text(text: str) -> str:
    return b2a_base64(zlib.compress(text.encode("utf-8"), 6), newline=False).decode("ascii")


def decode_text(blob: str) -> str:
    return zlib.decompress(a2b_base64(blob)).decode("utf-8")


def stored_text_line(doc_id: str, text: str) -> str:
    """The intermediate line that stores one record's text."""
    return f"{doc_id_key(doc_id)}\t{encode_text(text)}\t1\t"


def is_term(key: str) -> bool:
    """A real term (not a document-table or stored-text line)."""
    return key[:1] not in (DOC_TABLE, STORED_TEXT)


def key_counters(key: str, df: int, counts: dict) -> None:
    """Add one reduced line to the job counters: ``terms`` and ``postings`` count real
    terms only; ``table_documents`` counts documents (the document table's entries)."""
    if key[:1] == DOC_TABLE:
        counts["table_documents"] = counts.get("table_documents", 0) + df
    elif key[:1] != STORED_TEXT:
        counts["terms"] = counts.get("terms", 0) + 1
        counts["postings"] = counts.get("postings", 0) + df
