"""Compressed input is recognised by its first bytes, not its name, wherever it is read.

A ``.tsv`` holding gzip, or a ``.gz`` holding plain text, is read as what it is: a name
is a hint a user can get wrong, the magic bytes are not. Standard library only (this
module runs on cluster nodes in the streaming mapper).
"""

from __future__ import annotations

import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import BinaryIO

GZIP = "gzip"
BZIP2 = "bzip2"
SUFFIXES = {GZIP: ".gz", BZIP2: ".bz2"}
HEAD_BYTES = 10  # enough to tell bzip2 from a line that starts with "BZh"
# bzip2: "BZh" + block size 1-9 + a block's magic (pi) or the end of stream's (sqrt pi)
_BZIP2_BLOCKS = (b"\x31\x41\x59\x26\x53\x59", b"\x17\x72\x45\x38\x50\x90")
# What reading a damaged compressed stream raises (truncated: EOFError; garbled:
# OSError such as BadGzipFile or bz2's "Invalid data stream"; zlib.error).
DECOMPRESS_ERRORS = (EOFError, OSError, zlib.error)
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark: dropped where a file starts


def sniff(head: bytes) -> str | None:
    """``"gzip"``, ``"bzip2"`` or None (plain) for a file's first ``HEAD_BYTES`` bytes."""
    if head[:2] == b"\x1f\x8b":
        return GZIP
    if (len(head) >= HEAD_BYTES and head[:3] == b"BZh" and head[3:4] in b"123456789"
            and head[4:10] in _BZIP2_BLOCKS):
        return BZIP2
    return None


def compression_of(path: str) -> str | None:
    with open(path, "rb") as f:
        return sniff(f.read(HEAD_BYTES))


def _codec(kind: str):
    """The ``gzip`` or ``bz2`` module, imported when compressed input is met: the
    streaming mapper's input is mostly plain text, and importing both (bz2 brings
    threading) would cost every map task's start for nothing."""
    if kind == GZIP:
        import gzip

        return gzip
    import bz2

    return bz2


def open_file(path: str) -> BinaryIO:
    """The file's bytes, decompressed when its content is gzip or bzip2."""
    kind = compression_of(path)
    if kind is not None:
        return _codec(kind).open(path, "rb")
    return open(path, "rb", buffering=1 << 20)


def decompressing(stream: BinaryIO) -> BinaryIO:
    """``cat docs.tsv.gz | mapper`` works too: a stream that can peek is decompressed
    when its first bytes are gzip or bzip2 ones."""
    peek = getattr(stream, "peek", None)
    kind = sniff(peek(HEAD_BYTES)[:HEAD_BYTES]) if peek is not None else None
    return stream if kind is None else _codec(kind).open(stream, "rb")
