"""Parse storage URIs into (scheme, bucket, key[, account]) without touching any SDK.

One canonical scheme per backend: ``file`` (a plain path or ``file://``), ``s3``
(``s3a``/``s3n`` as Hadoop writes them), ``gs`` (``gcs``), ``az`` (Hadoop's
``wasb[s]://container@account.blob.core.windows.net/path`` and
``abfs[s]://container@account.dfs.core.windows.net/path`` name the account too).
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, replace

from ..errors import UsageError

ALIASES = {"s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gs", "gcs": "gs",
           "az": "az", "azure": "az", "wasb": "az", "wasbs": "az", "abfs": "az", "abfss": "az",
           "file": "file"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.S)
_AZ_HOST = re.compile(r"^([^@/]+)@([a-z0-9]+)\.(?:blob|dfs)\.core\.windows\.net$", re.I)


@dataclass(frozen=True)
class URI:
    """A location: ``key`` is an object key (no leading ``/``) or, for ``file``, a path."""

    scheme: str
    bucket: str = ""
    key: str = ""
    account: str | None = None

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    @property
    def name(self) -> str:
        """The last component of the key ('' for a bucket root)."""
        return posixpath.basename(self.key.rstrip("/")) if not self.is_local else \
            os.path.basename(self.key.rstrip(os.sep))

    @property
    def dir_like(self) -> bool:
        """Names a directory or prefix rather than one object: root or a trailing slash."""
        if self.is_local:
            return self.key.endswith(("/", os.sep)) or os.path.isdir(self.key)
        return self.key == "" or self.key.endswith("/")

    def join(self, rel: str) -> URI:
        """The location ``rel`` (a ``/``-separated relative path) below this one."""
        if self.is_local:
            return replace(self, key=os.path.join(self.key, *rel.split("/")))
        base = self.key if not self.key or self.key.endswith("/") else self.key + "/"
        return replace(self, key=base + rel)

    def __str__(self) -> str:
        if self.is_local:
            return self.key
        return f"{self.scheme}://{self.bucket}/{self.key}"


def parse_uri(text: str) -> URI:
    """``s3://bucket/key`` and friends; anything without a scheme is a local path."""
    m = _SCHEME.match(text)
    if not m:
        return URI("file", key=text)
    given, rest = m.group(1).lower(), m.group(2)
    scheme = ALIASES.get(given)
    if scheme is None:
        raise UsageError(f"unsupported storage scheme {given!r} in {text!r} "
                         f"(use a path, file://, s3://, gs://, az://)")
    if scheme == "file":
        if rest.startswith("localhost/"):
            rest = rest[len("localhost"):]
        if not rest.startswith("/"):
            raise UsageError(f"file:// URI needs an absolute path: {text!r}")
        return URI("file", key=rest)
    host, _, key = rest.partition("/")
    account = None
    if scheme == "az" and "@" in host:
        am = _AZ_HOST.match(host)
        if not am:
            raise UsageError(f"expected {given}://CONTAINER@ACCOUNT.blob.core.windows.net/PATH, "
                             f"got {text!r}")
        host, account = am.group(1), am.group(2).lower()
    if not host:
        raise UsageError(f"no bucket in {text!r} (expected {given}://BUCKET/KEY)")
    return URI(scheme, bucket=host, key=key, account=account)
