"""Google Cloud Storage through google-cloud-storage.

Credentials from Application Default Credentials (``gcloud auth application-default
login``, a workload identity, or ``GOOGLE_APPLICATION_CREDENTIALS``); the project from
ADC, ``GOOGLE_CLOUD_PROJECT`` or ``--project``; the endpoint from
``STORAGE_EMULATOR_HOST``. Files of ``threshold`` bytes or more go up as resumable
uploads in ``part_size`` chunks, which GCS makes visible only once finalized.

Integrity: the upload carries the file's MD5 and CRC32C in the object metadata, which
GCS validates, and the object's stored digests are compared with the local ones
afterwards; downloads are checked against the stored MD5/CRC32C.

Bucket to bucket, GCS copies by itself: ``Blob.rewrite`` called again with the token it
answers until done (a rewrite across locations or storage classes, or of a large object,
takes several calls); the destination exists only once the last call completes. The
source must still be the generation that was listed; the copy's MD5/CRC32C, which GCS
computes for the new object, are compared with the source's. No KMS key is named, as for
uploads: the destination bucket's default encryption applies.
"""

from __future__ import annotations

import hashlib
import io
import os
from contextlib import contextmanager
from typing import IO, Iterator

from .base import Callback, ObjectInfo, Settings, Store
from .checksum import b64_to_hex, file_digests, hex_to_b64
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


class _Counting(io.RawIOBase):
    """A file wrapper reporting bytes read or written to a progress callback."""

    def __init__(self, f: IO[bytes], callback: Callback) -> None:
        super().__init__()
        self.f, self.callback = f, callback

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        if self.callback and data:
            self.callback(len(data))
        return data

    def write(self, data) -> int:  # type: ignore[override]
        n = self.f.write(data)
        if self.callback:
            self.callback(len(data))
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.f.seek(offset, whence)

    def tell(self) -> int:
        return self.f.tell()

    def flush(self) -> None:
        self.f.flush()


class GCSStore(Store):
    scheme = "gs"

    def __init__(self, uri: URI, settings: Settings | None = None,
                 project: str | None = None, **_: object) -> None:
        super().__init__(uri, settings)
        storage = require("google.cloud.storage", "gs", "gcp")
        from google.cloud.storage.retry import DEFAULT_RETRY

        with self._errors():
            self.client = storage.Client(project=project)
        self._bucket = self.client.bucket(self.bucket)
        # GCS's own retry policy (429, 5xx, dropped connections), with quicker first waits
        self.retry = DEFAULT_RETRY.with_delay(initial=0.25, multiplier=2.0, maximum=10.0)

    # -- errors ------------------------------------------------------------------------
    @contextmanager
    def _errors(self, key: str = "") -> Iterator[None]:
        from google.api_core import exceptions as gx
        from google.auth import exceptions as ax

        where = self.uri(key)
        try:
            yield
        except gx.NotFound:
            if key and self._bucket_exists():
                raise ObjectNotFound(f"{where}: no such object") from None
            raise BucketNotFound(f"gs://{self.bucket}: no such bucket") from None
        except gx.Forbidden as e:
            raise AccessDenied(f"{where}: access denied ({e.message.splitlines()[0][:200]})"
                               ) from None
        except gx.Unauthorized:
            raise AuthError(f"{where}: Google rejected the credentials; run `gcloud auth "
                            "application-default login` again") from None
        except gx.Conflict:
            raise StorageError(f"gs://{self.bucket}: bucket already exists") from None
        except (gx.PreconditionFailed, gx.NotModified):
            raise StorageError(f"{where}: the object changed while it was read; try again"
                               ) from None
        except gx.GoogleAPICallError as e:
            raise StorageError(f"{where}: {e.code}: {e.message}") from None
        except ax.DefaultCredentialsError:
            raise AuthError("no Google credentials found: run `gcloud auth application-default "
                            "login`, or set GOOGLE_APPLICATION_CREDENTIALS") from None
        except ax.GoogleAuthError as e:
            raise AuthError(f"Google authentication failed: {str(e).splitlines()[0]}") from None
        except Exception as e:
            name = type(e).__name__
            if name == "DataCorruption":
                raise IntegrityError(f"{where}: checksum mismatch: corrupted in transit"
                                     ) from None
            if name in ("ConnectionError", "InvalidResponse", "RetryError"):
                raise StorageError(f"{where}: {name}: {str(e).splitlines()[0][:200]}") from None
            raise

    def _bucket_exists(self) -> bool:
        try:
            return bool(self._bucket.exists(retry=self.retry))
        except Exception:
            return True

    def _info(self, blob) -> ObjectInfo:
        return ObjectInfo(blob.name, int(blob.size or 0), md5=b64_to_hex(blob.md5_hash),
                          crc32c=b64_to_hex(blob.crc32c),
                          etag=str(blob.generation) if blob.generation else None,
                          mtime=blob.updated.timestamp() if blob.updated else None)

    # -- primitives --------------------------------------------------------------------
    def info(self, key: str) -> ObjectInfo:
        with self._errors(key):
            blob = self._bucket.get_blob(key, retry=self.retry)
        if blob is None:
            if not self._bucket_exists():
                raise BucketNotFound(f"gs://{self.bucket}: no such bucket")
            raise ObjectNotFound(f"{self.uri(key)}: no such object")
        return self._info(blob)

    def list(self, prefix: str, recursive: bool = True) -> Iterator[ObjectInfo]:
        with self._errors(prefix):
            it = self.client.list_blobs(self.bucket, prefix=prefix or None,
                                        delimiter=None if recursive else "/", retry=self.retry)
            for page in it.pages:
                for blob in page:
                    yield self._info(blob)
                for p in sorted(page.prefixes):
                    yield ObjectInfo(p, 0, is_dir=True)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        with self._errors(key):
            return self._bucket.blob(key).download_as_bytes(
                start=start, end=start + length - 1, checksum=None, retry=self.retry)

    def put_file(self, path: str | os.PathLike[str], key: str,
                 callback: Callback = None) -> ObjectInfo:
        size = os.path.getsize(path)
        local = file_digests(path, ("md5", "crc32c"))
        chunk = self.settings.part_size if size >= self.settings.threshold else None
        if chunk:
            chunk = max(256 << 10, chunk // (256 << 10) * (256 << 10))  # GCS: 256 KiB units
        blob = self._bucket.blob(key, chunk_size=chunk)
        blob.md5_hash = hex_to_b64(local["md5"])      # GCS rejects the upload on mismatch
        blob.crc32c = hex_to_b64(local["crc32c"])
        try:
            with self._errors(key), open(path, "rb") as f:
                blob.upload_from_file(_Counting(f, callback), size=size, checksum="crc32c",
                                      retry=self.retry)
        except IntegrityError:
            self.delete(key)
            raise
        info = self._info(blob)
        for kind in ("md5", "crc32c"):
            got = getattr(info, kind)
            if got is not None and got != local[kind]:
                self.delete(key)
                raise IntegrityError(f"{self.uri(key)}: GCS stored {kind} {got}, the file has "
                                     f"{local[kind]}; object removed")
        if info.size != size:
            self.delete(key)
            raise IntegrityError(f"{self.uri(key)}: GCS stored {info.size} bytes of {size}")
        return info

    def _download(self, info: ObjectInfo, dest: str, callback: Callback) -> None:
        chunk = self.settings.part_size if info.size >= self.settings.threshold else None
        if chunk:
            chunk = max(256 << 10, chunk // (256 << 10) * (256 << 10))
        blob = self._bucket.blob(info.key, chunk_size=chunk)
        generation = int(info.etag) if info.etag else None
        with self._errors(info.key), open(dest, "wb") as f:
            # digests are checked by verify_file against the stored MD5/CRC32C
            blob.download_to_file(_Counting(f, callback), checksum=None, retry=self.retry,
                                  if_generation_match=generation)

    def server_copy_source(self, src: Store) -> bool:
        return isinstance(src, GCSStore)

    def server_copy(self, src: Store, info: ObjectInfo, key: str,
                    callback: Callback = None) -> ObjectInfo:
        from google.api_core import exceptions as gx

        assert isinstance(src, GCSStore)
        source = src._bucket.blob(info.key)
        dest = self._bucket.blob(key)
        generation = int(info.etag) if info.etag else None
        token, done = None, 0
        with self._errors(key):
            while True:
                try:
                    token, written, _total = dest.rewrite(
                        source, token=token, if_source_generation_match=generation,
                        retry=self.retry)
                except gx.MethodNotImplemented:
                    raise ServerCopyUnavailable(f"{self.uri(key)}: the service does not "
                                                "implement rewrite") from None
                if callback and written > done:
                    callback(written - done)
                done = max(done, written)
                if token is None:
                    break
        got = self._info(dest)
        self.check_copy(info, got, {k: v for k, v in (("md5", info.md5),
                                                      ("crc32c", info.crc32c)) if v})
        return got

    def delete(self, key: str) -> None:
        try:
            with self._errors(key):
                self._bucket.delete_blob(key, retry=self.retry)
        except ObjectNotFound:
            pass

    def put_bytes_if(self, key: str, data: bytes, match: str | None = None) -> ObjectInfo:
        """One upload with ``ifGenerationMatch`` = 0 (create) or the generation named
        (``etag`` is the generation here). GCS's retry policy retries such a conditional
        request: a retried create whose first attempt landed answers 412, which the
        caller tells apart by reading the object back."""
        from google.api_core import exceptions as gx

        blob = self._bucket.blob(key)
        blob.md5_hash = hex_to_b64(hashlib.md5(data).hexdigest())
        with self._errors(key):
            try:
                blob.upload_from_string(data, if_generation_match=int(match or 0),
                                        checksum="crc32c", retry=self.retry)
            except gx.PreconditionFailed:
                raise PreconditionFailed(f"{self.uri(key)}: condition not met") from None
        return self._info(blob)

    def delete_if(self, key: str, match: str) -> None:
        """``ifGenerationMatch`` = the generation named."""
        from google.api_core import exceptions as gx

        try:
            with self._errors(key):
                try:
                    self._bucket.delete_blob(key, if_generation_match=int(match),
                                             retry=self.retry)
                except gx.PreconditionFailed:
                    raise PreconditionFailed(f"{self.uri(key)}: condition not met") from None
        except ObjectNotFound:
            pass

    def make_bucket(self) -> None:
        """Uniform bucket-level access, public access prevention enforced; GCS encrypts
        every object at rest (Google-managed keys unless a default KMS key is set)."""
        bucket = self.client.bucket(self.bucket)
        bucket.iam_configuration.uniform_bucket_level_access_enabled = True
        bucket.iam_configuration.public_access_prevention = "enforced"
        with self._errors():
            self.client.create_bucket(bucket, location=os.environ.get("INVINDEX_GCS_LOCATION"),
                                      retry=self.retry)
