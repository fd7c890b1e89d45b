"""``postgresql://USER@HOST:PORT/DB?sslmode=...``: PostgreSQL (your own, RDS, Cloud SQL).

psycopg 3. The password never appears in a URI: libpq reads ``PGPASSWORD`` or
``~/.pgpass``, or ``--iam`` (``?iam=1``) makes an RDS IAM auth token with boto3's
default credentials (region from ``?region=``, else the SDK's). A version's lines go in
with binary ``COPY`` into a table without an index; its primary key is built once, after the
last batch, which is far cheaper than maintaining it row by row.
"""

from __future__ import annotations

import struct
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Tuple
from urllib.parse import urlencode, urlsplit

from ..storage.errors import require
from .base import StoreError, StoreURI, UsageError, split_params
from .sql import SqlStore


def parse(uri: str) -> StoreURI:
    base, ours, theirs = split_params(uri)
    if base.startswith("postgres://"):
        base = "postgresql://" + base[len("postgres://"):]
    parts = urlsplit(base)
    if parts.password is not None or "password" in theirs:
        raise UsageError("a password in a PostgreSQL URI would show in process lists, "
                         "shell history and logs: use PGPASSWORD, ~/.pgpass or --iam")
    if not parts.hostname or not parts.path.strip("/"):
        raise UsageError(f"{uri}: expected postgresql://USER@HOST[:PORT]/DBNAME")
    target = base + ("?" + urlencode(theirs) if theirs else "")
    params = {k: ours[k] for k in ("iam", "region") if ours.get(k)}
    return StoreURI("postgresql", target, ours.get("name") or "default", params)


_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no header extension
_TRAILER = struct.pack("!h", -1)


def binary_copy(rows: List[Tuple[str, bytes]]) -> bytes:
    """``(key, payload)`` rows in COPY's binary format, header and trailer included: two
    fields a row, each its length then its bytes (psycopg's ``write_row`` costs a Python
    call per row, more than this whole function)."""
    out = [_SIGNATURE]
    for key, payload in rows:
        k = key.encode("utf-8")
        out += (struct.pack("!hi", 2, len(k)), k, struct.pack("!i", len(payload)), payload)
    out.append(_TRAILER)
    return b"".join(out)


class PostgresStore(SqlStore):
    scheme = "postgresql"
    param = "%s"
    serial = "BIGSERIAL PRIMARY KEY"

    def __init__(self, uri: StoreURI) -> None:
        super().__init__(uri)
        self.psycopg = require("psycopg", "postgresql", "postgresql")

    def _iam_token(self) -> Dict[str, str]:
        """An RDS IAM auth token as the password (valid 15 minutes, for connecting)."""
        boto3 = require("boto3", "postgresql", "aws")
        parts = urlsplit(self.uri.target)
        if not parts.username:
            raise UsageError(f"{self.where}: --iam needs the database user in the URI")
        try:
            client = boto3.session.Session().client(
                "rds", region_name=self.uri.params.get("region") or None)
            token = client.generate_db_auth_token(
                DBHostname=parts.hostname, Port=parts.port or 5432, DBUsername=parts.username)
        except Exception as e:  # botocore: no credentials, no region
            raise StoreError(f"{self.where}: cannot make an RDS IAM token: {e}") from None
        extra = {"password": token}
        if "sslmode=" not in (parts.query or ""):
            extra["sslmode"] = "require"  # RDS accepts IAM tokens over TLS only
        return extra

    def connect(self, write: bool) -> Any:
        extra = self._iam_token() if self.uri.params.get("iam") not in (None, "", "0") else {}
        # Readers autocommit: no transaction is held open between a server's requests.
        return self.psycopg.connect(self.uri.target, connect_timeout=10, autocommit=not write,
                                    application_name="invindex", **extra)

    @contextmanager
    def errors(self) -> Iterator[None]:
        try:
            yield
        except self.psycopg.Error as e:
            # libpq's messages can span lines (hints, the server's DETAIL): keep the first.
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise StoreError(f"{self.where}: {first}") from None

    def is_missing_table(self, exc: BaseException) -> bool:
        return isinstance(exc, self.psycopg.errors.UndefinedTable)

    def create_lines(self, cur: Any, table: str) -> None:
        cur.execute(f'CREATE TABLE {table} (key TEXT COLLATE "C" NOT NULL, '
                    "payload BYTEA NOT NULL)")
        # Arrays of int32 gain little from TOAST's compression and pay its CPU both ways.
        cur.execute(f"ALTER TABLE {table} ALTER COLUMN payload SET STORAGE EXTERNAL")

    def load(self, conn: Any, table: str, rows: List[Tuple[str, bytes]]) -> None:
        # A batch's commit need not wait for the disk: the switch's commit, which does,
        # flushes the log up to itself, so every batch before it is durable by then.
        copy_sql = f"COPY {table} (key, payload) FROM STDIN (FORMAT BINARY)"
        with conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit TO off")
            with cur.copy(copy_sql) as cp:
                cp.write(binary_copy(rows))

    def finish_lines(self, conn: Any, table: str) -> None:
        with conn.cursor() as cur:
            cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (key)")
            cur.execute(f"ANALYZE {table}")
        conn.commit()

    def read_cursor(self, conn: Any) -> Any:
        # Text results would send each payload as hex (twice the bytes) for psycopg to
        # decode; binary ones are the bytes themselves.
        return conn.cursor(binary=True)

    def lock_name(self, cur: Any) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ("invindex:" + self.uri.name,))
