"""Amazon S3 (and any S3-compatible store) through boto3 and s3transfer.

Credentials come from boto3's default chain (env, ``AWS_PROFILE`` or ``--profile``,
SSO, instance/task roles); the endpoint from ``AWS_ENDPOINT_URL[_S3]`` as botocore
reads it. Large files go up and down in parallel parts (``TransferConfig``); s3transfer
aborts a failed multipart upload, so an object is whole or absent.

Integrity: each upload stores the file's MD5 as ``x-amz-meta-md5`` and is then checked
against the ETag S3 computed from the bytes it received (plain MD5 for one request,
MD5-of-part-MD5s for multipart, recomputed locally with the same part size). Downloads
are checked against that MD5, or the ETag itself when another tool wrote the object.
With SSE-KMS/SSE-C the ETag is not a digest; then S3's own request checksums (CRC32,
sent by botocore and verified by S3) are what protect the transfer.

Bucket to bucket (same endpoint), S3 copies by itself: boto3's managed ``copy``, one
``CopyObject`` below the threshold, ``UploadPartCopy`` parts in parallel above it (a
multipart copy is completed last and aborted on failure, as an upload is). The source
must still have the ETag it was listed with (``CopySourceIfMatch``); the copy is checked
for its size, a single-request copy's ETag against the source's MD5 (S3 computes it
from the bytes it copied), and the ``md5`` metadata comes along for later downloads.
No encryption argument is passed, as for uploads: the destination bucket's default
encryption applies to the new object.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

from .base import Callback, ObjectInfo, Settings, Store, replace_as_cp, temp_beside
from .checksum import file_digests, hex_to_b64
from .errors import (
    AccessDenied,
    AuthError,
    BucketNotFound,
    ConditionsUnavailable,
    IntegrityError,
    ObjectNotFound,
    PreconditionFailed,
    ServerCopyUnavailable,
    StorageError,
    require,
)
from .retry import retry_call
from .uri import URI

log = logging.getLogger(__name__)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
               "TokenRefreshRequired", "AuthorizationHeaderMalformed", "InvalidClientTokenId",
               "UnrecognizedClientException", "ExpiredTokenException"}
_DENIED_CODES = {"AccessDenied", "AllAccessDisabled", "403", "Forbidden"}
_OPAQUE_SSE = {"aws:kms", "aws:kms:dsse"}
_NO_COPY_CODES = {"NotImplemented", "501"}  # an S3-compatible store without the copy calls
# a conditional request that lost: 412, or 409 when another conditional write of the key
# was in flight (S3 asks to retry; for a lock it means another writer got there)
_CONDITION_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def _strip(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None


class S3Store(Store):
    scheme = "s3"

    def __init__(self, uri: URI, settings: Settings | None = None,
                 profile: str | None = None, **_: object) -> None:
        super().__init__(uri, settings)
        boto3 = require("boto3", "s3", "aws")
        from boto3.s3.transfer import S3Transfer, TransferConfig
        from botocore.config import Config

        s = self.settings
        with self._errors():
            session = boto3.session.Session(profile_name=profile)
            retries = {"mode": os.environ.get("AWS_RETRY_MODE", "standard"),
                       "max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS", s.retries + 1))}
            self.client = session.client("s3", config=Config(
                retries=retries, max_pool_connections=max(32, 8 * s.concurrency)))
        self.transfer = TransferConfig(multipart_threshold=s.threshold,
                                       multipart_chunksize=s.part_size,
                                       max_concurrency=s.concurrency, use_threads=True)
        self._s3transfer = S3Transfer(self.client, self.transfer)  # one thread pool, reused

    # -- errors ------------------------------------------------------------------------
    @contextmanager
    def _errors(self, key: str = "") -> Iterator[None]:
        """Turn botocore's exceptions into one-line storage errors."""
        from botocore import exceptions as bx

        where = self.uri(key) if getattr(self, "bucket", None) else "s3"
        try:
            yield
        except bx.ClientError as e:
            raise self._client_error(e, key) from None
        except (bx.NoCredentialsError, bx.PartialCredentialsError):
            raise AuthError("no AWS credentials found: set AWS_PROFILE (or --profile), run "
                            "`aws configure` / `aws sso login`, or use an instance role") from None
        except bx.ProfileNotFound as e:
            raise AuthError(f"AWS profile {e.kwargs.get('profile')!r} not found") from None
        except bx.EndpointConnectionError as e:
            raise StorageError(f"{where}: cannot reach {e.kwargs.get('endpoint_url')}") from None
        except bx.FlexibleChecksumError as e:
            raise IntegrityError(f"{where}: {e}: corrupted in transit") from None
        except bx.BotoCoreError as e:
            raise StorageError(f"{where}: {e}") from None
        except Exception as e:
            # s3transfer wraps ClientErrors of an upload in S3UploadFailedError (text only)
            if type(e).__name__ in ("S3UploadFailedError", "RetriesExceededError"):
                m = re.search(r"\(([A-Za-z0-9]+)\)", str(e))
                code = m.group(1) if m else ""
                raise self._code_error(code, str(e), key) from None
            raise

    def _client_error(self, e, key: str) -> Exception:
        err = e.response.get("Error", {})
        return self._code_error(str(err.get("Code", "")), err.get("Message") or str(e), key)

    def _code_error(self, code: str, message: str, key: str) -> Exception:
        where = self.uri(key)
        if code == "NoSuchBucket":
            return BucketNotFound(f"s3://{self.bucket}: no such bucket")
        if code in ("NoSuchKey", "404", "NotFound"):
            if not self._bucket_exists():
                return BucketNotFound(f"s3://{self.bucket}: no such bucket")
            return ObjectNotFound(f"{where}: no such object")
        if code in _AUTH_CODES:
            return AuthError(f"{where}: AWS rejected the credentials ({code}); check the "
                             "profile or refresh the session")
        if code in _DENIED_CODES:
            return AccessDenied(f"{where}: access denied (the AWS identity in use lacks "
                                "permission, or the credentials are wrong)")
        if code in ("PreconditionFailed", "412"):
            return StorageError(f"{where}: the object changed while it was read; try again")
        if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            return StorageError(f"s3://{self.bucket}: bucket already exists")
        return StorageError(f"{where}: {code or 'error'}: {message}")

    def _bucket_exists(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return True
        except ClientError as e:
            return str(e.response.get("Error", {}).get("Code")) not in ("404", "NoSuchBucket")

    # -- primitives --------------------------------------------------------------------
    def _info_from_head(self, key: str, head: dict) -> ObjectInfo:
        etag = _strip(head.get("ETag"))
        md5 = (head.get("Metadata") or {}).get("md5")
        opaque = head.get("ServerSideEncryption") in _OPAQUE_SSE or head.get(
            "SSECustomerAlgorithm")
        if not (md5 and _HEX32.match(md5)):
            md5 = etag if etag and _HEX32.match(etag) and not opaque else None
        mtime = head.get("LastModified")
        return ObjectInfo(key, int(head["ContentLength"]), md5=md5, etag=etag,
                          mtime=mtime.timestamp() if mtime else None)

    def info(self, key: str) -> ObjectInfo:
        with self._errors(key):
            return self._info_from_head(key, self.client.head_object(Bucket=self.bucket, Key=key))

    def list(self, prefix: str, recursive: bool = True) -> Iterator[ObjectInfo]:
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if not recursive:
            kwargs["Delimiter"] = "/"
        with self._errors(prefix):
            for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
                for cp in page.get("CommonPrefixes", []):
                    yield ObjectInfo(cp["Prefix"], 0, is_dir=True)
                for obj in page.get("Contents", []):
                    # a listing cannot tell SSE-KMS ETags apart: digests come from info()
                    yield ObjectInfo(obj["Key"], int(obj["Size"]), etag=_strip(obj.get("ETag")),
                                     mtime=obj["LastModified"].timestamp())

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        from botocore import exceptions as bx

        def get() -> bytes:
            resp = self.client.get_object(Bucket=self.bucket, Key=key,
                                          Range=f"bytes={start}-{start + length - 1}")
            return resp["Body"].read()

        with self._errors(key):
            return retry_call(get, (bx.ResponseStreamingError, bx.ReadTimeoutError,
                                    bx.ConnectionClosedError, bx.IncompleteReadError),
                              what=f"GET {self.uri(key)}")

    def _part_size(self, size: int) -> int | None:
        """The part size s3transfer will use for ``size`` bytes, or None for one PUT."""
        if size < self.transfer.multipart_threshold:
            return None
        from s3transfer.utils import ChunksizeAdjuster

        return ChunksizeAdjuster().adjust_chunksize(self.transfer.multipart_chunksize, size)

    def put_file(self, path: str | os.PathLike[str], key: str,
                 callback: Callback = None) -> ObjectInfo:
        size = os.path.getsize(path)
        part_size = self._part_size(size)
        local = file_digests(path, ("md5", "etag") if part_size else ("md5",), part_size)
        expected = local["etag"] if part_size else local["md5"]
        meta = {"md5": local["md5"]}
        with self._errors(key):
            if part_size is None:  # one PUT; S3 checks Content-MD5 and answers the ETag
                with open(path, "rb") as f:
                    resp = self.client.put_object(Bucket=self.bucket, Key=key, Body=f,
                                                  ContentMD5=hex_to_b64(local["md5"]),
                                                  Metadata=meta)
                if callback:
                    callback(size)
                head = {**resp, "ContentLength": size, "Metadata": meta}
            else:
                self._s3transfer.upload_file(os.fspath(path), self.bucket, key,
                                             extra_args={"Metadata": meta}, callback=callback)
                head = self.client.head_object(Bucket=self.bucket, Key=key)
        info = self._info_from_head(key, head)
        opaque = head.get("ServerSideEncryption") in _OPAQUE_SSE or head.get(
            "SSECustomerAlgorithm")
        if info.size != size or (not opaque and info.etag != expected):
            self.delete(key)
            raise IntegrityError(f"{self.uri(key)}: S3 received other bytes than were sent "
                                 f"(ETag {info.etag}, expected {expected}); object removed")
        return info

    def get_file(self, key: str, path: str | os.PathLike[str], callback: Callback = None,
                 info: ObjectInfo | None = None) -> ObjectInfo:
        """Small objects in one GET (its headers carry the digests); large ones in
        parallel ranged parts after a HEAD."""
        if info is None or info.size >= self.transfer.multipart_threshold:
            return super().get_file(key, path, callback, None)
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        from botocore import exceptions as bx

        def fetch(tmp: str) -> ObjectInfo:
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
            got = self._info_from_head(key, resp)
            with open(tmp, "wb") as f:
                for block in resp["Body"].iter_chunks(1 << 20):
                    f.write(block)
                    if callback:
                        callback(len(block))
            return got

        with self._errors(key), temp_beside(dest) as tmp:
            got = retry_call(lambda: fetch(tmp), (bx.ResponseStreamingError, bx.ReadTimeoutError,
                                                  bx.ConnectionClosedError,
                                                  bx.IncompleteReadError),
                             what=f"GET {self.uri(key)}")
            self.verify_file(tmp, got)
            replace_as_cp(tmp, dest)
        return got

    def _download(self, info: ObjectInfo, dest: str, callback: Callback) -> None:
        # an object replaced meanwhile fails verify_file: its digests are the old one's
        with self._errors(info.key):
            self._s3transfer.download_file(self.bucket, info.key, dest, callback=callback)

    def verify_file(self, path: str, info: ObjectInfo) -> None:
        if info.md5 or not info.etag or "-" not in info.etag:
            return super().verify_file(path, info)
        # written by another tool in parts: rebuild its ETag with its first part's size
        super().verify_file(path, info)  # size at least
        with self._errors(info.key):
            part1 = self.client.head_object(Bucket=self.bucket, Key=info.key, PartNumber=1)
        got = file_digests(path, ("etag",), int(part1["ContentLength"]))["etag"]
        if got != info.etag:
            raise IntegrityError(f"{self.uri(info.key)}: multipart ETag mismatch (got {got}, "
                                 f"S3 says {info.etag}): corrupted in transit")

    def server_copy_source(self, src: Store) -> bool:
        return isinstance(src, S3Store) and \
            src.client.meta.endpoint_url == self.client.meta.endpoint_url

    def server_copy(self, src: Store, info: ObjectInfo, key: str,
                    callback: Callback = None) -> ObjectInfo:
        from botocore.exceptions import ClientError

        assert isinstance(src, S3Store)
        source = src.info(info.key) if not info.md5 else info  # listings carry no md5
        extra = {"CopySourceIfMatch": f'"{source.etag}"'} if source.etag else {}
        with self._errors(key):
            try:
                self.client.copy({"Bucket": src.bucket, "Key": source.key}, self.bucket, key,
                                 ExtraArgs=extra, Callback=callback, SourceClient=src.client,
                                 Config=self.transfer)
            except ClientError as e:
                code = str(e.response.get("Error", {}).get("Code", ""))
                if code in _NO_COPY_CODES:
                    raise ServerCopyUnavailable(f"{self.uri(key)}: the service does not "
                                                f"implement copies ({code})") from None
                raise
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        got = self._info_from_head(key, head)
        opaque = head.get("ServerSideEncryption") in _OPAQUE_SSE or head.get(
            "SSECustomerAlgorithm")
        expected = {}
        if source.md5:
            expected["md5"] = source.md5  # the carried metadata, or the new plain ETag
            if self._part_size(source.size) is None and not opaque:
                expected["etag"] = source.md5
        self.check_copy(source, got, expected)
        return got

    def delete(self, key: str) -> None:
        with self._errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    @contextmanager
    def _conditional(self, key: str) -> Iterator[None]:
        from botocore.exceptions import ClientError

        with self._errors(key):
            try:
                yield
            except ClientError as e:
                code = str(e.response.get("Error", {}).get("Code", ""))
                if code in _CONDITION_CODES:
                    raise PreconditionFailed(f"{self.uri(key)}: condition not met ({code})"
                                             ) from None
                if code in _NO_COPY_CODES:
                    raise ConditionsUnavailable(f"{self.uri(key)}: the service does not "
                                                f"implement conditional requests ({code})"
                                                ) from None
                raise

    def put_bytes_if(self, key: str, data: bytes, match: str | None = None) -> ObjectInfo:
        """One ``PutObject`` with ``IfNoneMatch='*'`` or ``IfMatch=<ETag>`` (S3 since
        2024). The ETag of a small object is its MD5: callers make each version's bytes
        unique, so that the ETag names one write."""
        md5 = hashlib.md5(data).hexdigest()
        cond = {"IfNoneMatch": "*"} if match is None else {"IfMatch": f'"{match}"'}
        with self._conditional(key):
            resp = self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                          ContentMD5=hex_to_b64(md5), Metadata={"md5": md5},
                                          **cond)
        return ObjectInfo(key, len(data), md5=md5, etag=_strip(resp.get("ETag")))

    def delete_if(self, key: str, match: str) -> None:
        """``DeleteObject`` with ``IfMatch=<ETag>`` (S3 general purpose buckets since
        2025-09; S3 answers 404 when the object is gone, which is fine here)."""
        try:
            with self._conditional(key):
                self.client.delete_object(Bucket=self.bucket, Key=key, IfMatch=f'"{match}"')
        except ObjectNotFound:
            pass

    def delete_many(self, keys: List[str]) -> None:
        """Up to 1000 keys per request."""
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i:i + 1000]]
            with self._errors():
                resp = self.client.delete_objects(Bucket=self.bucket,
                                                  Delete={"Objects": batch, "Quiet": True})
            errors = resp.get("Errors") or []
            if errors:
                e = errors[0]
                raise self._code_error(e.get("Code", ""), e.get("Message", ""), e.get("Key", ""))

    def make_bucket(self) -> None:
        """Private (public access block on, ACLs disabled), SSE-S3 encrypted by default."""
        kwargs = {"Bucket": self.bucket, "ObjectOwnership": "BucketOwnerEnforced"}
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with self._errors():
            if self._bucket_exists():  # us-east-1 answers 200 to creating one's own bucket
                raise StorageError(f"s3://{self.bucket}: bucket already exists")
            self.client.create_bucket(**kwargs)
            self.client.put_public_access_block(
                Bucket=self.bucket, PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True, "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
            self.client.put_bucket_encryption(
                Bucket=self.bucket, ServerSideEncryptionConfiguration={"Rules": [{
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                    "BucketKeyEnabled": True}]})
