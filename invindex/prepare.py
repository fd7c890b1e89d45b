"""Records from a directory of text files or from JSON lines (Pyserini's layout).

Text is made record-safe by collapsing every run of whitespace that contains a line
break or tab (``str.splitlines`` breaks, ``\\t``) into one space; doc ids must not
contain those characters at all, so such a file or JSON id is skipped with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Iterator

from .errors import UsageError
from .inputs import open_input

log = logging.getLogger(__name__)
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


def clean_text(text: str) -> str:
    return _BREAKS.sub(" ", text)


def _record(doc_id: str, text: str) -> bytes | None:
    if not doc_id or any(ord(c) < 0x20 for c in doc_id) or _BREAKS.search(doc_id):
        log.warning("skipping document with unusable id %r", doc_id)
        return None
    return f"{doc_id}\t{clean_text(text)}\n".encode()


def prepare_records(source: str, id_field: str = "id",
                    text_field: str = "contents") -> Iterator[bytes | None]:
    """Record lines as bytes; ``None`` for each document skipped (already warned)."""
    path = Path(source)
    if path.is_dir():
        for root, dirs, names in os.walk(path):
            dirs.sort()
            for name in sorted(names):
                f = Path(root) / name
                text = f.read_bytes().decode("utf-8", "replace")
                yield _record(f.relative_to(path).as_posix(), text)
        return
    if not path.is_file():
        raise UsageError(f"{source} is neither a directory nor a file")
    with open_input(path) as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                yield _record(str(obj[id_field]), str(obj.get(text_field, "")))
            except (ValueError, KeyError, TypeError) as e:
                log.warning("%s:%d: skipping line that is not a JSON object with %r: %s",
                            source, n, id_field, e)
                yield None
