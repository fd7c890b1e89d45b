"""Records from a directory of text files or from JSON lines (Pyserini's layout).

Text is made record-safe by collapsing every run of whitespace that contains a line
break or tab (``str.splitlines`` breaks, ``\\t``) into one space; doc ids must not
contain those characters at all, so such a file or JSON id is skipped with a warning.

A directory is read with ``build``'s rules (``inputs.expand_inputs``: names starting
with ``_`` or ``.`` skipped, special files skipped, compressed files decompressed); a
file whose first 8 KiB hold a NUL byte is binary and skipped, a file that is not text
in the chosen encoding is skipped (never silently turned into U+FFFD); both are
counted in ``skipped``. A file that is not JSON lines (a ``.tsv`` of records, say) is
one usage error.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Iterator

from .errors import UsageError
from .inputs import expand_inputs, open_input

log = logging.getLogger(__name__)
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")
_SNIFF = 8192
_WARN_LINES = 5


def clean_text(text: str) -> str:
    return _BREAKS.sub(" ", text)


def _record(doc_id: str, text: str) -> bytes | None:
    if not doc_id or any(ord(c) < 0x20 for c in doc_id) or _BREAKS.search(doc_id):
        log.warning("skipping document with unusable id %r", doc_id)
        return None
    return f"{doc_id}\t{clean_text(text)}\n".encode()


def check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(f"unknown encoding {encoding!r}") from None


def prepare_records(source: str, id_field: str = "id", text_field: str = "contents",
                    encoding: str = "utf-8", skipped: Counter | None = None
                    ) -> Iterator[bytes]:
    """Record lines as bytes; what was left out is counted by reason in ``skipped``
    (``binary``, ``undecodable``, ``bad id``, ``not JSON``) and warned about."""
    skipped = Counter() if skipped is None else skipped
    encoding = check_encoding(encoding)
    path = Path(source)
    if path.is_dir():
        yield from _from_directory(path, encoding, skipped)
    elif path.is_file():
        yield from _from_jsonl(path, source, id_field, text_field, skipped)
    else:
        raise UsageError(f"{source} is neither a directory nor a file")


def _from_directory(top: Path, encoding: str, skipped: Counter) -> Iterator[bytes]:
    for f in expand_inputs([str(top)]):
        try:
            with open_input(f) as stream:
                data = stream.read()
        except (OSError, EOFError) as e:  # a truncated or garbled .gz / .bz2
            log.warning("skipped %s: cannot decompress it (%s)", f, e)
            skipped["damaged"] += 1
            continue
        if b"\x00" in data[:_SNIFF]:
            log.warning("skipped %s: binary (a NUL byte in its first %d bytes)", f, _SNIFF)
            skipped["binary"] += 1
            continue
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as e:
            log.warning("skipped %s: not %s text (byte %d); see --encoding", f, encoding,
                        e.start)
            skipped["undecodable"] += 1
            continue
        record = _record(f.relative_to(top).as_posix(), text)
        if record is None:
            skipped["bad id"] += 1
        else:
            yield record


def _from_jsonl(path: Path, source: str, id_field: str, text_field: str,
                skipped: Counter) -> Iterator[bytes]:
    first = True
    with open_input(path) as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
                record = _record(str(obj[id_field]), str(obj.get(text_field, "")))
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                if first:
                    raise UsageError(
                        f"{source} is not JSON lines (line {n} is not a JSON object with "
                        f"{id_field!r}); a file of doc_id<TAB>text records needs no "
                        "prepare: give it to `invindex build`") from None
                if skipped["not JSON"] < _WARN_LINES:
                    log.warning("%s:%d: skipping line that is not a JSON object with %r: "
                                "%s", source, n, id_field, e)
                skipped["not JSON"] += 1
                continue
            first = False
            if record is None:
                skipped["bad id"] += 1
            else:
                yield record
