"""Azure Blob Storage through azure-storage-blob.

The account comes from the URI (``wasbs://container@ACCOUNT.blob.core.windows.net``),
``--account`` or ``AZURE_STORAGE_ACCOUNT``; credentials from ``DefaultAzureCredential``
(``az login``, managed identity, workload identity, ``AZURE_CLIENT_*`` env), or a whole
``AZURE_STORAGE_CONNECTION_STRING`` (how emulators such as Azurite are reached).
Files of ``threshold`` bytes or more go up as blocks, ``concurrency`` at a time, and
become visible only when the block list is committed.

Integrity: every block and ranged GET carries a transactional MD5 the service checks
(``validate_content``); the blob's ``Content-MD5`` is set to the file's MD5 and
downloads are compared with it.

Within one account (and endpoint) Azure copies by itself: Copy Blob
(``start_copy_from_url``; the destination's credentials authorize the source there, no
SAS), polled until the service reports it done. Until then the service shows the
destination as an empty blob whose copy is pending: it is never taken for a finished
object (no MD5, downloads refused), and a copy that fails or is interrupted is aborted
and the destination deleted. The source must keep the ETag it was listed with; the copy
must have its size and Content-MD5. Across accounts (Copy Blob would need a SAS on the
source) and where the service lacks the call, the copy goes through this machine. No
encryption scope is named, as for uploads: the container's default applies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from .base import Callback, ObjectInfo, Settings, Store
from .checksum import file_digests
from .errors import (
    AccessDenied,
    AuthError,
    BucketNotFound,
    IntegrityError,
    ObjectNotFound,
    PreconditionFailed,
    ServerCopyUnavailable,
    StorageError,
    require,
)
from .uri import URI

_DENIED = {"AuthorizationPermissionMismatch", "AuthorizationFailure",
           "AuthorizationSourceIPMismatch", "AuthorizationProtocolMismatch",
           "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch",
           "InsufficientAccountPermissions", "PublicAccessNotPermitted"}
_GET_CHUNK = 4 << 20  # the largest range the service will give a transactional MD5 for


def _conn_account(conn: str) -> str | None:
    for item in conn.split(";"):
        name, _, value = item.partition("=")
        if name.strip().lower() == "accountname":
            return value.strip().lower()
    return None


def _code(e: Exception) -> str | None:
    """The service's error code as text (the SDK gives a str enum or a string)."""
    code = getattr(e, "error_code", None)
    return getattr(code, "value", code)


def copy_incomplete(props) -> bool:
    """True for a blob a Copy Blob is still writing, or failed/aborted writing."""
    copy = getattr(props, "copy", None)
    return getattr(copy, "status", None) in ("pending", "failed", "aborted")


def _copied(progress: str | None) -> int:
    """Bytes copied so far from ``x-ms-copy-progress`` (``copied/total``)."""
    try:
        return int((progress or "0/0").split("/")[0])
    except ValueError:
        return 0


def _hook(callback: Callback):
    """azure's progress_hook(current, total) as a per-chunk byte callback."""
    if callback is None:
        return None
    seen = [0]
    lock = threading.Lock()

    def hook(current: int, total: int | None) -> None:
        with lock:
            delta, seen[0] = current - seen[0], max(seen[0], current)
        if delta > 0:
            callback(delta)
    return hook


class AzureStore(Store):
    scheme = "az"

    def __init__(self, uri: URI, settings: Settings | None = None,
                 account: str | None = None, **_: object) -> None:
        super().__init__(uri, settings)
        blob = require("azure.storage.blob", "az", "azure")
        s = self.settings
        account = (uri.account or account or os.environ.get("AZURE_STORAGE_ACCOUNT") or "")
        account = account.lower() or None
        conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        options = dict(max_block_size=s.part_size, max_single_put_size=s.threshold,
                       max_chunk_get_size=_GET_CHUNK, max_single_get_size=_GET_CHUNK,
                       retry_policy=blob.ExponentialRetry(initial_backoff=0.2, increment_base=1.5,
                                                          retry_total=s.retries,
                                                          random_jitter_range=1))
        with self._errors():
            if conn and (account is None or _conn_account(conn) == account):
                service = blob.BlobServiceClient.from_connection_string(conn, **options)
            elif account:
                identity = require("azure.identity", "az", "azure")
                service = blob.BlobServiceClient(
                    f"https://{account}.blob.core.windows.net",
                    credential=identity.DefaultAzureCredential(), **options)
            else:
                raise AuthError("az:// needs a storage account: set AZURE_STORAGE_ACCOUNT, use "
                                "--account, or write wasbs://CONTAINER@ACCOUNT.blob.core."
                                "windows.net/PATH")
        self.account = service.account_name
        self.container = service.get_container_client(self.bucket)

    def uri(self, key: str = "") -> str:
        return f"az://{self.bucket}/{key}"

    # -- errors ------------------------------------------------------------------------
    @contextmanager
    def _errors(self, key: str = "") -> Iterator[None]:
        from azure.core import exceptions as zx

        where = self.uri(key)
        try:
            yield
        except zx.ResourceNotFoundError as e:
            if _code(e) == "ContainerNotFound" or not key:
                raise BucketNotFound(f"az://{self.bucket}: no such container"
                                     f"{self._in_account()}") from None
            raise ObjectNotFound(f"{where}: no such blob") from None
        except zx.ResourceExistsError as e:
            raise StorageError(f"{where}: already exists ({_code(e)})") from None
        except zx.ResourceModifiedError:
            raise StorageError(f"{where}: the blob changed while it was read; try again"
                               ) from None
        except zx.ClientAuthenticationError as e:
            raise self._auth_error(e, where) from None
        except zx.ServiceRequestError as e:
            raise StorageError(f"{where}: cannot reach Azure Blob storage: "
                               f"{str(e).splitlines()[0][:200]}") from None
        except zx.HttpResponseError as e:
            if e.status_code in (401, 403):
                raise self._auth_error(e, where) from None
            raise StorageError(f"{where}: {e.status_code} {_code(e) or e.reason}") from None
        except zx.AzureError as e:
            text = str(e).splitlines()[0][:200]
            if "md5" in text.lower() or "crc" in text.lower():
                raise IntegrityError(f"{where}: {text}: corrupted in transit") from None
            raise StorageError(f"{where}: {text}") from None

    @staticmethod
    def _auth_error(e: Exception, where: str) -> Exception:
        code = _code(e)
        if code in _DENIED:
            return AccessDenied(f"{where}: access denied ({code}): the identity in use lacks "
                                "a Storage Blob Data role, or the account key/SAS is wrong")
        text = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        return AuthError(f"{where}: Azure authentication failed ({code or text}); check "
                         "`az login`, the managed identity or the connection string")

    def _in_account(self) -> str:
        return f" in account {self.account}" if getattr(self, "account", None) else ""

    def _info(self, props) -> ObjectInfo:
        md5 = props.content_settings.content_md5 if props.content_settings else None
        if copy_incomplete(props):
            md5 = None  # a pending copy shows the source's properties on an empty blob
        return ObjectInfo(props.name, int(props.size or 0),
                          md5=bytes(md5).hex() if md5 else None, etag=props.etag,
                          mtime=props.last_modified.timestamp() if props.last_modified else None)

    # -- primitives --------------------------------------------------------------------
    def info(self, key: str) -> ObjectInfo:
        with self._errors(key):
            props = self.container.get_blob_client(key).get_blob_properties()
        return self._info(props)

    def list(self, prefix: str, recursive: bool = True) -> Iterator[ObjectInfo]:
        from azure.storage.blob import BlobPrefix

        with self._errors(prefix):
            if recursive:
                items = self.container.list_blobs(name_starts_with=prefix or None)
            else:
                items = self.container.walk_blobs(name_starts_with=prefix or None, delimiter="/")
            for item in items:
                if isinstance(item, BlobPrefix):
                    yield ObjectInfo(item.name, 0, is_dir=True)
                else:
                    yield self._info(item)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        with self._errors(key):
            return self.container.get_blob_client(key).download_blob(
                offset=start, length=length, max_concurrency=1,
                validate_content=length <= _GET_CHUNK).readall()

    def put_file(self, path: str | os.PathLike[str], key: str,
                 callback: Callback = None) -> ObjectInfo:
        from azure.storage.blob import ContentSettings

        size = os.path.getsize(path)
        md5 = file_digests(path, ("md5",))["md5"]
        client = self.container.get_blob_client(key)
        with self._errors(key), open(path, "rb") as f:
            resp = client.upload_blob(f, length=size, overwrite=True,
                                      max_concurrency=self.settings.concurrency,
                                      validate_content=True, content_settings=ContentSettings(
                                          content_md5=bytearray(bytes.fromhex(md5))),
                                      progress_hook=_hook(callback))
            if size < self.settings.threshold:
                # one Put Blob: the Content-MD5 it answers is the service's own digest
                got = resp.get("content_md5")
                info = ObjectInfo(key, size, md5=bytes(got).hex() if got else md5,
                                  etag=resp.get("etag"))
            else:  # blocks were checked one by one; the committed blob must be whole
                info = self._info(client.get_blob_properties())
        if info.size != size or (info.md5 and info.md5 != md5):
            self.delete(key)
            raise IntegrityError(f"{self.uri(key)}: Azure stored {info.size} bytes with MD5 "
                                 f"{info.md5}, the file has {size} bytes with MD5 {md5}; "
                                 "blob removed")
        return info

    def _download(self, info: ObjectInfo, dest: str, callback: Callback) -> None:
        from azure.core import MatchConditions

        conditions = {"etag": info.etag, "match_condition": MatchConditions.IfNotModified} \
            if info.etag else {}
        with self._errors(info.key), open(dest, "wb") as f:
            stream = self.container.get_blob_client(info.key).download_blob(
                max_concurrency=self.settings.concurrency, validate_content=True,
                progress_hook=_hook(callback), **conditions)
            if copy_incomplete(stream.properties):
                raise StorageError(f"{self.uri(info.key)}: a copy into this blob is "
                                   f"{stream.properties.copy.status}: not a finished blob")
            stream.readinto(f)

    # -- server-side copy --------------------------------------------------------------
    def server_copy_source(self, src: Store) -> bool:
        return isinstance(src, AzureStore) and src.account == self.account and \
            src.container.primary_hostname == self.container.primary_hostname

    def server_copy(self, src: Store, info: ObjectInfo, key: str,
                    callback: Callback = None) -> ObjectInfo:
        from azure.core import MatchConditions
        from azure.core.exceptions import HttpResponseError

        assert isinstance(src, AzureStore)
        source = src.container.get_blob_client(info.key)
        dest = self.container.get_blob_client(key)
        conditions = {"source_etag": info.etag,
                      "source_match_condition": MatchConditions.IfNotModified} \
            if info.etag else {}
        with self._errors(key):
            try:
                started = dest.start_copy_from_url(source.url, **conditions)
            except HttpResponseError as e:
                if e.status_code == 501 or _code(e) in ("NotImplemented",
                                                        "CannotVerifyCopySource"):
                    raise ServerCopyUnavailable(f"{self.uri(key)}: the service cannot copy "
                                                f"it ({_code(e) or e.status_code})") from None
                raise
        try:
            props = self._wait_for_copy(dest, started, info.size, callback)
        except BaseException:
            self._abandon_copy(dest, started.get("copy_id"))
            raise
        got = self._info(props)
        self.check_copy(info, got, {"md5": info.md5} if info.md5 else {})
        return got

    def _wait_for_copy(self, dest, started: dict, size: int, callback: Callback):
        """Poll the destination until its copy is no longer pending (backoff up to 5 s);
        report progress from ``x-ms-copy-progress``; its properties when it succeeded."""
        done, delay = 0, 0.1
        with self._errors(dest.blob_name):
            props = dest.get_blob_properties()
            while True:
                status = props.copy.status or started.get("copy_status")
                copied = size if status == "success" else _copied(props.copy.progress)
                if callback and copied > done:
                    callback(copied - done)
                done = max(done, copied)
                if status != "pending":
                    break
                time.sleep(delay)
                delay = min(5.0, delay * 2)
                props = dest.get_blob_properties()
        if status != "success":
            raise StorageError(f"{self.uri(dest.blob_name)}: the service's copy {status}: "
                               f"{props.copy.status_description or 'no reason given'}")
        return props

    def _abandon_copy(self, dest, copy_id: str | None) -> None:
        """Abort a copy that may still run on the service, then delete the destination
        (an empty or partial blob is all it can be)."""
        if copy_id:
            with contextlib.suppress(Exception):  # finished or failed meanwhile
                dest.abort_copy(copy_id)
        self.delete(dest.blob_name)

    def delete(self, key: str) -> None:
        try:
            with self._errors(key):
                self.container.get_blob_client(key).delete_blob(delete_snapshots="include")
        except ObjectNotFound:
            pass

    @contextmanager
    def _conditional(self, key: str) -> Iterator[None]:
        from azure.core import exceptions as zx

        with self._errors(key):
            try:
                yield
            except (zx.ResourceExistsError, zx.ResourceModifiedError) as e:
                raise PreconditionFailed(f"{self.uri(key)}: condition not met ({_code(e)})"
                                         ) from None

    def put_bytes_if(self, key: str, data: bytes, match: str | None = None) -> ObjectInfo:
        """One Put Blob with ``If-None-Match: *`` (``overwrite=False``) or ``If-Match``
        the ETag named."""
        from azure.core import MatchConditions
        from azure.storage.blob import ContentSettings

        md5 = hashlib.md5(data).digest()
        cond = {"overwrite": False} if match is None else {
            "overwrite": True, "etag": match, "match_condition": MatchConditions.IfNotModified}
        with self._conditional(key):
            resp = self.container.get_blob_client(key).upload_blob(
                data, length=len(data), validate_content=True,
                content_settings=ContentSettings(content_md5=bytearray(md5)), **cond)
        return ObjectInfo(key, len(data), md5=md5.hex(), etag=resp.get("etag"))

    def delete_if(self, key: str, match: str) -> None:
        """Delete Blob with ``If-Match`` the ETag named (absent is fine)."""
        from azure.core import MatchConditions

        try:
            with self._conditional(key):
                self.container.get_blob_client(key).delete_blob(
                    etag=match, match_condition=MatchConditions.IfNotModified)
        except ObjectNotFound:
            pass
        except PreconditionFailed:
            if self.exists(key):  # Azurite answers 412, not 404, for an absent blob
                raise

    def make_bucket(self) -> None:
        """A private container (no anonymous access); Azure Storage encrypts all data at
        rest (Microsoft-managed keys unless the account is set up with its own)."""
        with self._errors():
            self.container.create_container()
