"""The SQL layout SQLite and PostgreSQL share, and the publish and read steps over it.

Tables (all prefixed ``invindex_``, so they can sit in a database with others):

- ``invindex_store(key, value)``: ``format`` = the store format that wrote it;
- ``invindex_versions(id, name, manifest, created)``: one row per loaded version;
- ``invindex_indexes(name, version, published)``: which version each name serves;
- ``invindex_lines_<id>(key PRIMARY KEY, payload)``: one version's index lines (a
  term's payload in ``layout``'s binary arrays), the key in byte order (``COLLATE "C"``
  on PostgreSQL), so a term or one document's length is a primary-key lookup and the
  document table a range scan of its 4096 ``!`` rows.

A version gets its own table: loading it never touches the serving one, the switch is
one row update, and removing the old version is a ``DROP TABLE`` (no row-by-row delete).
A backend supplies the connection, the placeholder, the bulk load and its errors.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Tuple

from ..index import utc_now
from .base import (
    STORE_FORMAT,
    Loader,
    Store,
    StoreChanged,
    StoreError,
    StoreReader,
    check_store_format,
    missing_index,
    parse_manifest,
)

log = logging.getLogger("invindex.stores")


def lines_table(version: int) -> str:
    return f"invindex_lines_{int(version)}"


class SqlStore(Store):
    """The catalog logic; subclasses set ``param``/``serial`` and implement the hooks."""

    param = "?"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"

    # -- hooks -------------------------------------------------------------------------
    def connect(self, write: bool) -> Any:
        raise NotImplementedError

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Turn the driver's exceptions into one-line ``StoreError``s."""
        raise NotImplementedError
        yield

    def is_missing_table(self, exc: BaseException) -> bool:
        raise NotImplementedError

    def create_lines(self, cur: Any, table: str) -> None:
        raise NotImplementedError

    def load(self, conn: Any, table: str, rows: List[Tuple[str, bytes]]) -> None:
        raise NotImplementedError

    def finish_lines(self, conn: Any, table: str) -> None:
        """After the last batch (PostgreSQL adds its primary key here)."""

    def lock_name(self, cur: Any) -> None:
        """Serialize switches of one name (PostgreSQL: an advisory lock)."""

    def read_cursor(self, conn: Any) -> Any:
        """A cursor for serving reads (PostgreSQL: binary results, no hex bytea)."""
        return conn.cursor()

    # -- shared ------------------------------------------------------------------------
    def q(self, sql: str) -> str:
        return sql.replace("?", self.param)

    def _catalog(self, cur: Any) -> None:
        cur.execute("CREATE TABLE IF NOT EXISTS invindex_store "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS invindex_versions (id {self.serial}, "
                    "name TEXT NOT NULL, manifest TEXT NOT NULL, created TEXT NOT NULL)")
        cur.execute("CREATE TABLE IF NOT EXISTS invindex_indexes (name TEXT PRIMARY KEY, "
                    "version BIGINT NOT NULL, published TEXT NOT NULL)")
        cur.execute("SELECT value FROM invindex_store WHERE key = 'format'")
        row = cur.fetchone()
        if row is None:
            cur.execute(self.q("INSERT INTO invindex_store (key, value) VALUES ('format', ?)"),
                        (str(STORE_FORMAT),))
        else:
            check_store_format(row[0], self.where)

    def _current(self, cur: Any) -> int | None:
        cur.execute(self.q("SELECT version FROM invindex_indexes WHERE name = ?"),
                    (self.uri.name,))
        row = cur.fetchone()
        return None if row is None else int(row[0])

    def reader(self) -> StoreReader:
        with self.errors():
            conn = self.connect(write=False)
            cur = conn.cursor()
            try:
                cur.execute("SELECT value FROM invindex_store WHERE key = 'format'")
                row = cur.fetchone()
            except Exception as e:
                if self.is_missing_table(e):
                    raise StoreError(f"{self.where} holds no invindex store (publish an "
                                     "index to it first)") from None
                raise
            check_store_format(row[0] if row else None, self.where)
            version = self._current(cur)
            if version is None:
                raise missing_index(self.where, self.uri.name)
            cur.execute(self.q("SELECT manifest FROM invindex_versions WHERE id = ?"),
                        (version,))
            manifest = parse_manifest(cur.fetchone()[0], self.where)
            conn.rollback()  # no transaction left open between queries
        return SqlReader(self, conn, version, manifest)

    def begin(self, manifest: Dict[str, Any], replace: bool) -> Loader:
        with self.errors():
            conn = self.connect(write=True)
            cur = conn.cursor()
            self._catalog(cur)
            current = self._current(cur)
            if current is not None and not replace:
                conn.rollback()
                raise StoreError(f"{self.where} already serves an index named "
                                 f"{self.uri.name!r}: add --replace to replace it")
            cur.execute(self.q("INSERT INTO invindex_versions (name, manifest, created) "
                               "VALUES (?, ?, ?) RETURNING id"),
                        (self.uri.name, json.dumps(manifest, ensure_ascii=False), utc_now()))
            version = int(cur.fetchone()[0])
            self.create_lines(cur, lines_table(version))
            conn.commit()
        return SqlLoader(self, conn, version, current)

    def drop_versions(self, cur: Any, versions: List[int]) -> None:
        for v in versions:
            cur.execute(f"DROP TABLE IF EXISTS {lines_table(v)}")
            cur.execute(self.q("DELETE FROM invindex_versions WHERE id = ?"), (v,))


class SqlLoader(Loader):
    def __init__(self, store: SqlStore, conn: Any, version: int, current: int | None) -> None:
        self.store, self.conn, self.version, self.current = store, conn, version, current
        self.table = lines_table(version)

    def write(self, rows: List[Tuple[str, bytes]]) -> None:
        with self.store.errors():
            self.store.load(self.conn, self.table, rows)
            self.conn.commit()

    def switch(self) -> None:
        s = self.store
        with s.errors():
            s.finish_lines(self.conn, self.table)
            cur = self.conn.cursor()
            s.lock_name(cur)
            if s._current(cur) != self.current:
                raise StoreError(f"{s.where}: {s.uri.name!r} was published by someone else "
                                 "meanwhile; this publish was abandoned")
            cur.execute(s.q("DELETE FROM invindex_indexes WHERE name = ?"), (s.uri.name,))
            cur.execute(s.q("INSERT INTO invindex_indexes (name, version, published) "
                            "VALUES (?, ?, ?)"), (s.uri.name, self.version, utc_now()))
            self.conn.commit()  # the one step readers see
            # Older versions of this name: the one just replaced, and any left by an
            # interrupted publish (newer ones may belong to a publish still running).
            cur.execute(s.q("SELECT id FROM invindex_versions WHERE name = ? AND id < ?"),
                        (s.uri.name, self.version))
            s.drop_versions(cur, [int(r[0]) for r in cur.fetchall()])
            self.conn.commit()
            self.conn.close()

    def abort(self) -> None:
        try:
            self.conn.rollback()
            self.store.drop_versions(self.conn.cursor(), [self.version])
            self.conn.commit()
            return
        except Exception as e:  # e.g. a signal landed mid-COPY: that connection is busy
            log.info("dropping the unfinished version over a new connection (%s)", e)
        finally:
            self.conn.close()  # ends its transaction, so nothing holds the table now
        conn = self.store.connect(write=True)
        try:
            self.store.drop_versions(conn.cursor(), [self.version])
            conn.commit()
        finally:
            conn.close()


class SqlReader(StoreReader):
    """One version's lines; a query per call, no transaction held between calls."""

    def __init__(self, store: SqlStore, conn: Any, version: int,
                 manifest: Dict[str, Any]) -> None:
        super().__init__(store.where, manifest)
        self.store, self.conn, self.version = store, conn, version
        self.table = table = lines_table(version)
        self._get_sql = store.q(f"SELECT payload FROM {table} WHERE key = ?")
        self._range_sql = store.q(
            f"SELECT key, payload FROM {table} WHERE key >= ? AND key < ? ORDER BY key")
        self._all_sql = f"SELECT key, payload FROM {table} ORDER BY key"

    @contextmanager
    def _query(self) -> Iterator[Any]:
        try:
            with self.store.errors():
                try:
                    yield self.store.read_cursor(self.conn)
                except Exception as e:
                    if self.store.is_missing_table(e):
                        raise StoreChanged(
                            f"{self.location}: the version being read was replaced by a "
                            "newer publish; open the store again") from None
                    raise
        finally:
            self.conn.rollback()

    def _get(self, key: str) -> bytes | None:
        with self._query() as cur:
            cur.execute(self._get_sql, (key,))
            row = cur.fetchone()
        return None if row is None else row[0]

    def _get_many(self, keys: List[str]) -> Dict[str, bytes]:
        if len(keys) < 2:
            return super()._get_many(keys)
        sql = self.store.q(f"SELECT key, payload FROM {self.table} WHERE key IN "
                           f"({', '.join('?' * len(keys))})")
        with self._query() as cur:
            cur.execute(sql, keys)
            return dict(cur.fetchall())

    def _range(self, low: str, high: str | None) -> Iterator[Tuple[str, bytes]]:
        with self._query() as cur:
            if high is None:
                cur.execute(self._all_sql)
            else:
                cur.execute(self._range_sql, (low, high))
            while rows := cur.fetchmany(1000):
                yield from rows

    def close(self) -> None:
        self.conn.close()
