"""``dynamodb://TABLE[?region=R]``: Amazon DynamoDB through boto3.

Credentials from boto3's default chain; the endpoint from ``AWS_ENDPOINT_URL`` (or
``AWS_ENDPOINT_URL_DYNAMODB``) as botocore reads it, like every AWS call here.

One table holds any number of indexes. Keys: partition ``term`` (string), sort
``chunk`` (number), the schema ``invindex cluster up`` gives a ``dynamodb`` table:

- ``NAME/VERSION/KEY``, chunks 0..n-1: one index line (KEY = the term, ``!XXX`` or
  ``#doc_id``; a term's payload in ``layout``'s binary arrays), zlib-compressed and
  cut into pieces of at most 350 KB (an item is at most 400 KB); chunk 0 carries
  ``n``. A term is one ``Query``.
- ``NAME/VERSION/!``: the document table; bucket ``!XXX``'s line at sort keys
  XXX x 10000 + chunk, so all document lengths are one ``Query`` (one bucket, a range).
- ``NAME/VERSION/@manifest``: the manifest, stored the same way.
- ``@index/NAME`` (chunk 0): ``v``, the version that NAME serves; written last, with a
  condition, so the switch is one conditional ``PutItem``.
- ``@store`` (chunk 0): ``f``, the store format.

A missing table is created on demand (PAY_PER_REQUEST, server-side encryption with a
KMS key, point-in-time recovery on). Writes go through ``BatchWriteItem`` 25 items at a
time, in parallel, with ``UnprocessedItems`` retried with exponential backoff. After a
switch, a ``Scan`` of the name's keys deletes older versions (the replaced one and any
left by an interrupted publish); it reads the whole table, which costs about 1/16 of
writing it. A reader that misses a key checks that its version still serves, so a
replaced version is an error, never a silently empty answer.
"""

from __future__ import annotations

import logging
import random
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Tuple

from ..core.doctable import DOC_TABLE
from ..index import utc_now
from ..storage.errors import require
from .base import (
    STORE_FORMAT,
    Loader,
    Store,
    StoreChanged,
    StoreError,
    StoreReader,
    StoreURI,
    UsageError,
    check_store_format,
    missing_index,
    parse_manifest,
    split_params,
)

log = logging.getLogger("invindex.stores")

CHUNK = 350_000  # bytes of payload per item (the limit is 400 KB with keys and names)
MANIFEST_KEY = "@manifest"
STORE_KEY = "@store"
WRITERS = 8  # parallel BatchWriteItem calls
NAMES = {"#t": "term", "#c": "chunk"}  # the key attributes, named as `cluster up` makes them
SPAN = 10_000  # sort keys per document-table bucket (chunks of one bucket's line)
_AUTH = {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
         "MissingAuthenticationTokenException", "InvalidClientTokenId"}


def parse(uri: str) -> StoreURI:
    base, ours, theirs = split_params(uri)
    table = base[len("dynamodb://"):]
    if not table or "/" in table:
        raise UsageError(f"{uri}: expected dynamodb://TABLE[?region=R]")
    if theirs:
        raise UsageError(f"{uri}: unknown parameter(s) {', '.join(sorted(theirs))} "
                         "(dynamodb takes region= and name=)")
    params = {"region": ours["region"]} if ours.get("region") else {}
    return StoreURI("dynamodb", table, ours.get("name") or "default", params)


def pointer_key(name: str) -> Dict[str, Any]:
    return {"term": {"S": f"@index/{name}"}, "chunk": {"N": "0"}}


def item_key(key: str) -> Tuple[str, int]:
    """An index line's partition suffix and first sort key: the term itself and 0, but
    the document table's ``!XXX`` buckets share the partition ``!`` (sort key = bucket
    x SPAN + chunk), so all document lengths are one ``Query``."""
    if len(key) == 4 and key[0] == DOC_TABLE:
        try:
            return DOC_TABLE, int(key[1:], 16) * SPAN
        except ValueError:
            pass
    return key, 0


def line_items(prefix: str, key: str, payload: bytes) -> List[Dict[str, Any]]:
    """One line's items: the compressed payload cut into CHUNK-byte pieces."""
    data = zlib.compress(payload, 3)
    pieces = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    part, first = item_key(key)
    items = [{"term": {"S": prefix + part}, "chunk": {"N": str(first + i)}, "d": {"B": piece}}
             for i, piece in enumerate(pieces)]
    items[0]["n"] = {"N": str(len(pieces))}
    return items


def join_chunks(items: List[Dict[str, Any]]) -> bytes:
    items = sorted(items, key=lambda it: int(it["chunk"]["N"]))
    return zlib.decompress(b"".join(it["d"]["B"] for it in items))


class DynamoStore(Store):
    scheme = "dynamodb"

    def __init__(self, uri: StoreURI) -> None:
        super().__init__(uri)
        boto3 = require("boto3", "dynamodb", "aws")
        from botocore.config import Config

        self.table = uri.target
        with self.errors():
            session = boto3.session.Session(region_name=uri.params.get("region") or None)
            self.client = session.client("dynamodb", config=Config(
                retries={"mode": "standard", "max_attempts": 5},
                max_pool_connections=2 * WRITERS, connect_timeout=10, read_timeout=60))

    @contextmanager
    def errors(self) -> Iterator[None]:
        from botocore import exceptions as bx

        try:
            yield
        except bx.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            msg = e.response.get("Error", {}).get("Message", "") or str(e)
            if code == "ResourceNotFoundException":
                raise StoreError(f"{self.where}: no DynamoDB table {self.table!r} "
                                 "(`invindex publish` creates it)") from None
            if code in _AUTH:
                raise StoreError(f"{self.where}: credentials rejected ({code})") from None
            raise StoreError(f"{self.where}: {code}: {msg}") from None
        except (bx.NoCredentialsError, bx.NoRegionError, bx.EndpointConnectionError,
                bx.ConnectTimeoutError, bx.ReadTimeoutError, bx.ParamValidationError) as e:
            raise StoreError(f"{self.where}: {e}") from None

    # -- reading -----------------------------------------------------------------------
    def serving_version(self) -> int | None:
        with self.errors():
            item = self.client.get_item(TableName=self.table, Key=pointer_key(self.uri.name),
                                        ConsistentRead=True).get("Item")
        return None if item is None else int(item["v"]["N"])

    def reader(self) -> StoreReader:
        with self.errors():
            mark = self.client.get_item(TableName=self.table, ConsistentRead=True, Key={
                "term": {"S": STORE_KEY}, "chunk": {"N": "0"}}).get("Item")
        check_store_format(mark["f"]["N"] if mark else None, self.where)
        version = self.serving_version()
        if version is None:
            raise missing_index(self.where, self.uri.name)
        return DynamoReader(self, version)

    def query_items(self, pk: str, low: int | None = None,
                    high: int | None = None) -> List[Dict[str, Any]]:
        """The items of partition ``pk`` (with ``low <= chunk <= high`` when given)."""
        items: List[Dict[str, Any]] = []
        values: Dict[str, Any] = {":k": {"S": pk}}
        cond = "#t = :k"
        if low is not None:
            cond += " AND #c BETWEEN :lo AND :hi"
            values.update({":lo": {"N": str(low)}, ":hi": {"N": str(high)}})
        kwargs: Dict[str, Any] = {"TableName": self.table, "ConsistentRead": True,
                                  "KeyConditionExpression": cond,
                                  "ExpressionAttributeNames": dict(
                                      NAMES if low is not None else {"#t": "term"}),
                                  "ExpressionAttributeValues": values}
        with self.errors():
            while True:
                page = self.client.query(**kwargs)
                items.extend(page.get("Items", []))
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def scan_keys(self, prefix: str, data: bool = False) -> Iterator[Dict[str, Any]]:
        """The keys (and with ``data`` the payloads) of the items under ``prefix``."""
        kwargs: Dict[str, Any] = {
            "TableName": self.table, "ProjectionExpression": "#t, #c" + (", d" if data else ""),
            "FilterExpression": "begins_with(#t, :p)", "ExpressionAttributeNames": NAMES,
            "ExpressionAttributeValues": {":p": {"S": prefix}}}
        with self.errors():
            while True:
                page = self.client.scan(**kwargs)
                yield from page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- writing -----------------------------------------------------------------------
    def ensure_table(self) -> None:
        from botocore import exceptions as bx

        try:
            self.client.describe_table(TableName=self.table)
            return
        except bx.ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                with self.errors():
                    raise
        log.info("creating DynamoDB table %s (on-demand, encrypted, PITR)", self.table)
        with self.errors():
            self.client.create_table(
                TableName=self.table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "term", "AttributeType": "S"},
                                      {"AttributeName": "chunk", "AttributeType": "N"}],
                KeySchema=[{"AttributeName": "term", "KeyType": "HASH"},
                           {"AttributeName": "chunk", "KeyType": "RANGE"}],
                SSESpecification={"Enabled": True, "SSEType": "KMS"},
                Tags=[{"Key": "created-by", "Value": "invindex"}])
            self.client.get_waiter("table_exists").wait(
                TableName=self.table, WaiterConfig={"Delay": 2, "MaxAttempts": 150})
            self.client.update_continuous_backups(
                TableName=self.table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

    def begin(self, manifest: Dict[str, Any], replace: bool) -> Loader:
        import json

        self.ensure_table()
        with self.errors():
            mark = self.client.get_item(TableName=self.table, ConsistentRead=True, Key={
                "term": {"S": STORE_KEY}, "chunk": {"N": "0"}}).get("Item")
            check_store_format(mark["f"]["N"] if mark else None, self.where)
            current = self.serving_version()
            if current is not None and not replace:
                raise StoreError(f"{self.where} already serves an index named "
                                 f"{self.uri.name!r}: add --replace to replace it")
            if mark is None:
                self.client.put_item(TableName=self.table, Item={
                    "term": {"S": STORE_KEY}, "chunk": {"N": "0"}, "f": {"N": str(STORE_FORMAT)}})
        version = max(time.time_ns(), (current or 0) + 1)
        loader = DynamoLoader(self, version, current)
        loader.write([(MANIFEST_KEY, json.dumps(manifest, ensure_ascii=False).encode())])
        return loader

    def batch_write(self, requests: List[Dict[str, Any]]) -> None:
        """One ``BatchWriteItem`` (<= 25 requests), unprocessed ones retried with
        exponential backoff and jitter."""
        pending = {self.table: requests}
        for attempt in range(12):
            with self.errors():
                out = self.client.batch_write_item(RequestItems=pending)
            pending = out.get("UnprocessedItems") or {}
            if not pending:
                return
            delay = min(5.0, 0.05 * 2 ** attempt)
            time.sleep(delay / 2 + random.uniform(0, delay / 2))
        raise StoreError(f"{self.where}: DynamoDB kept {len(pending[self.table])} write(s) "
                         "unprocessed after 12 attempts (throttled); try again later")

    def write_all(self, requests: List[Dict[str, Any]]) -> None:
        groups = [requests[i:i + 25] for i in range(0, len(requests), 25)]
        if len(groups) == 1:
            self.batch_write(groups[0])
            return
        with ThreadPoolExecutor(WRITERS) as pool:
            for _ in pool.map(self.batch_write, groups):
                pass

    def delete_versions(self, prefix: str, keep) -> int:
        """Delete the items under ``prefix`` whose version ``keep(v)`` rejects."""
        doomed = []
        for item in self.scan_keys(prefix):
            version = item["term"]["S"][len(prefix):].partition("/")[0]
            if version.isdigit() and not keep(int(version)):
                key = {"term": item["term"], "chunk": item["chunk"]}
                doomed.append({"DeleteRequest": {"Key": key}})
        self.write_all(doomed)
        return len(doomed)


class DynamoLoader(Loader):
    def __init__(self, store: DynamoStore, version: int, current: int | None) -> None:
        self.store, self.version, self.current = store, version, current
        self.prefix = f"{store.uri.name}/{version}/"

    def write(self, rows: List[Tuple[str, bytes]]) -> None:
        requests = [{"PutRequest": {"Item": item}}
                    for key, payload in rows for item in line_items(self.prefix, key, payload)]
        self.store.write_all(requests)

    def switch(self) -> None:
        s = self.store
        item = {**pointer_key(s.uri.name), "v": {"N": str(self.version)},
                "published": {"S": utc_now()}}
        if self.current is None:
            cond: Dict[str, Any] = {"ConditionExpression": "attribute_not_exists(#t)",
                                    "ExpressionAttributeNames": {"#t": "term"}}
        else:
            cond = {"ConditionExpression": "v = :old",
                    "ExpressionAttributeValues": {":old": {"N": str(self.current)}}}
        from botocore import exceptions as bx

        try:
            s.client.put_item(TableName=s.table, Item=item, **cond)
        except bx.ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise StoreError(f"{s.where}: {s.uri.name!r} was published by someone else "
                                 "meanwhile; this publish was abandoned") from None
            with s.errors():
                raise
        removed = s.delete_versions(f"{s.uri.name}/", lambda v: v >= self.version)
        log.info("removed %d item(s) of older versions", removed)

    def abort(self) -> None:
        self.store.delete_versions(f"{self.store.uri.name}/", lambda v: v != self.version)


class DynamoReader(StoreReader):
    def __init__(self, store: DynamoStore, version: int) -> None:
        self.store, self.version = store, version
        self.prefix = f"{store.uri.name}/{version}/"
        items = store.query_items(self.prefix + MANIFEST_KEY)
        if not items:
            raise StoreChanged(f"{store.where}: the version being opened was just replaced; "
                               "open the store again")
        super().__init__(store.where, parse_manifest(join_chunks(items), store.where))

    def _missing(self) -> None:
        if self.store.serving_version() != self.version:
            raise StoreChanged(f"{self.location}: the version being read was replaced by a "
                               "newer publish; open the store again")

    def _get(self, key: str) -> bytes | None:
        part, first = item_key(key)
        if first or part == DOC_TABLE:
            items = self.store.query_items(self.prefix + part, first, first + SPAN - 1)
        else:
            items = self.store.query_items(self.prefix + part)
        if not items:
            self._missing()
            return None
        return join_chunks(items)

    def _doc_table(self) -> Iterator[Tuple[str, bytes]]:
        """The document table's lines: one ``Query`` of the ``!`` partition."""
        buckets: Dict[int, List[Dict[str, Any]]] = {}
        for item in self.store.query_items(self.prefix + DOC_TABLE):
            buckets.setdefault(int(item["chunk"]["N"]) // SPAN, []).append(item)
        if not buckets:
            self._missing()
        return ((f"{DOC_TABLE}{b:03x}", join_chunks(buckets[b])) for b in sorted(buckets))

    def _range(self, low: str, high: str | None) -> Iterator[Tuple[str, bytes]]:
        if low == DOC_TABLE and high == chr(ord(DOC_TABLE) + 1):
            return self._doc_table()
        chunks: Dict[str, List[Dict[str, Any]]] = {}
        for item in self.store.scan_keys(self.prefix, data=True):
            key = item["term"]["S"][len(self.prefix):]
            if key == DOC_TABLE:
                key = f"{DOC_TABLE}{int(item['chunk']['N']) // SPAN:03x}"
            if key != MANIFEST_KEY and low <= key and (high is None or key < high):
                chunks.setdefault(key, []).append(item)
        return ((key, join_chunks(chunks[key])) for key in sorted(chunks))
