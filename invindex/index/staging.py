"""The names of a build's staging prefix beside its output, and which names are whose.

A job writing URIs in place into an existing index writes its parts under
``.NAME.tmp-HOST-PID-RANDOM/`` beside the output (``s3://b/a/.idx.tmp-h-42-0a1b2c3d/``
for ``s3://b/a/idx``; at a bucket root, ``.BUCKET.tmp-...`` in the bucket) and the commit
copies them in. The pattern is strict (HOST is alphanumeric, RANDOM 8 hex digits), so
that ``idx``'s staging is never confused with that of ``idx2`` or ``idx.tmp-x``, nor with
a user's object that merely starts the same way. Pure: no I/O here.
"""

from __future__ import annotations

import os
import re
from typing import Tuple

from ..temps import owner_tag


def output_name(prefix: str, bucket: str) -> Tuple[str, str]:
    """``(parent, name)`` of an output prefix: ``("a", "idx")`` for ``a/idx``;
    ``("", BUCKET)`` for a bucket root, whose lock and staging go in the bucket."""
    parent, _, name = prefix.rstrip("/").rpartition("/")
    return parent, name or bucket


def staging_name(name: str) -> str:
    """A fresh staging prefix's name for the output ``name``, owned by this process."""
    return f".{name}.tmp-{owner_tag()}-{os.urandom(4).hex()}"


def staging_owner(name: str, segment: str) -> str | None:
    """``HOST-PID`` when ``segment`` is a staging prefix's name of the output ``name``."""
    m = re.fullmatch(rf"\.{re.escape(name)}\.tmp-([A-Za-z0-9]+-[0-9]+)-[0-9a-f]{{8}}",
                     segment)
    return m.group(1) if m else None
