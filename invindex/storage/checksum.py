"""Checksums of local files in the forms the services report them.

MD5 is the one digest every backend can state for a whole object (S3 ETag of a
single-part upload or our ``md5`` metadata, GCS ``md5Hash``, Azure ``Content-MD5``);
CRC32C is what GCS always has, including for composite objects. Digests are
compared as lowercase hex.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Dict, Iterable, List

_BLOCK = 1 << 20


def b64_to_hex(value: str | bytes | bytearray | None) -> str | None:
    if not value:
        return None
    raw = base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return raw.hex()


def hex_to_b64(value: str) -> str:
    return base64.b64encode(bytes.fromhex(value)).decode("ascii")


class Crc32c:
    """CRC32C (Castagnoli) with google-crc32c's C code when present."""

    def __init__(self) -> None:
        try:
            import google_crc32c

            self._c = google_crc32c.Checksum()
        except ImportError:  # pragma: no cover - google-crc32c comes with the gcp extra
            self._c = None
            self._v = 0

    def update(self, data: bytes) -> None:
        if self._c is not None:
            self._c.update(data)
        else:  # pragma: no cover
            self._v = _crc32c_py(self._v, data)

    def hexdigest(self) -> str:
        if self._c is not None:
            return self._c.digest().hex()
        return self._v.to_bytes(4, "big").hex()  # pragma: no cover


_TABLE: List[int] = []


def _crc32c_py(crc: int, data: bytes) -> int:  # pragma: no cover - fallback only
    if not _TABLE:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _TABLE.append(c)
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def file_digests(path: str | os.PathLike[str], kinds: Iterable[str] = ("md5",),
                 part_size: int | None = None) -> Dict[str, str]:
    """Digests of a file in one pass: ``md5``, ``crc32c``, and with ``part_size`` the
    ETag S3 gives a multipart upload of that part size (``md5-of-part-md5s-N``)."""
    kinds = set(kinds)
    md5 = hashlib.md5() if "md5" in kinds or "etag" in kinds else None
    crc = Crc32c() if "crc32c" in kinds else None
    parts: List[bytes] = []
    part = hashlib.md5() if part_size else None
    in_part = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(_BLOCK if not part_size else min(_BLOCK, part_size - in_part))
            if not block:
                break
            if md5 is not None:
                md5.update(block)
            if crc is not None:
                crc.update(block)
            if part is not None and part_size:
                part.update(block)
                in_part += len(block)
                if in_part == part_size:
                    parts.append(part.digest())
                    part, in_part = hashlib.md5(), 0
    out: Dict[str, str] = {}
    if md5 is not None:
        out["md5"] = md5.hexdigest()
    if crc is not None:
        out["crc32c"] = crc.hexdigest()
    if part_size and "etag" in kinds:
        if in_part or not parts:
            assert part is not None
            parts.append(part.digest())
        out["etag"] = f"{hashlib.md5(b''.join(parts)).hexdigest()}-{len(parts)}"
    return out
