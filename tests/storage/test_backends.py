"""Each backend's primitives against its emulator: the same behaviour on every cloud."""

from __future__ import annotations

import os

import pytest

from invindex.core import indexfmt
from invindex.storage import BucketNotFound, ObjectNotFound, StorageError, get_store, locate
from invindex.storage.checksum import file_digests


def test_put_info_get_roundtrip(bucket: str, tmp_path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(os.urandom(300_000))
    store, _ = locate(bucket)
    seen = []
    info = store.put_file(src, "dir/a.bin", seen.append)
    assert info.size == 300_000 and sum(seen) >= 300_000
    assert info.md5 == file_digests(src)["md5"]
    again = store.info("dir/a.bin")
    assert (again.size, again.md5) == (info.size, info.md5)
    dest = tmp_path / "out" / "a.bin"
    store.get_file("dir/a.bin", dest)
    assert dest.read_bytes() == src.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["a.bin"]  # no temp names left


def test_list_recursive_and_one_level(bucket: str) -> None:
    store, _ = locate(bucket)
    for key in ["p/a", "p/b/c", "p/b/d", "q"]:
        store.put_bytes(key, key.encode())
    assert sorted(i.key for i in store.list("p/")) == ["p/a", "p/b/c", "p/b/d"]
    level = sorted((i.key, i.is_dir) for i in store.list("p/", recursive=False))
    assert level == [("p/a", False), ("p/b/", True)]
    assert sorted(i.key for i in store.list("")) == ["p/a", "p/b/c", "p/b/d", "q"]


def test_read_range_and_open_seek(bucket: str) -> None:
    store, _ = locate(bucket)
    data = bytes(range(256)) * 1000
    store.put_bytes("r", data)
    assert store.read_range("r", 1000, 10) == data[1000:1010]
    assert store.read_range("r", len(data) - 5, 100) == data[-5:]
    with store.open("r") as f:
        f.seek(200_000)
        assert f.read(7) == data[200_000:200_007]
        f.seek(-3, os.SEEK_END)
        assert f.read() == data[-3:]
        f.seek(5)
        assert f.read(3) == data[5:8]


def test_find_in_part_over_ranged_gets(bucket: str) -> None:
    """The lookup bisection works on a remote part as on a local one."""
    lines = [f"term{i:06d}\t{{\"df\":1,\"postings\":[[\"d{i}\",1]]}}\n" for i in range(20_000)]
    store, _ = locate(bucket)
    store.put_bytes("idx/part-00000", "".join(lines).encode())
    info = store.info("idx/part-00000")
    f = store.open("idx/part-00000", info)
    for i in (0, 1, 9_999, 19_999):
        assert indexfmt.find_in_part(f, info.size, f"term{i:06d}").decode() == lines[i]
    assert indexfmt.find_in_part(f, info.size, "term0100000x") is None
    assert f.raw.requests < 60  # O(log n) blocks, not the whole part


def test_delete_and_missing(bucket: str, tmp_path) -> None:
    store, _ = locate(bucket)
    store.put_bytes("gone", b"x")
    assert store.exists("gone")
    store.delete("gone")
    assert not store.exists("gone")
    store.delete("gone")  # absent is fine
    with pytest.raises(ObjectNotFound):
        store.info("gone")
    with pytest.raises(ObjectNotFound):
        store.get_file("gone", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_missing_bucket_is_one_clear_error(cloud) -> None:
    store = get_store(f"{cloud.scheme}://no-such-bucket-zz9")
    with pytest.raises(BucketNotFound, match="no such (bucket|container)"):
        store.info("k")
    with pytest.raises(BucketNotFound):
        list(store.list(""))


def test_make_bucket_twice_is_an_error(bucket: str) -> None:
    with pytest.raises(StorageError, match="already exists"):
        get_store(bucket).make_bucket()


def test_empty_object(bucket: str, tmp_path) -> None:
    store, _ = locate(bucket)
    store.put_bytes("_SUCCESS", b"")
    assert store.info("_SUCCESS").size == 0
    store.get_file("_SUCCESS", tmp_path / "_SUCCESS")
    assert (tmp_path / "_SUCCESS").read_bytes() == b""


def test_s3_bucket_is_private_and_encrypted(s3, make_bucket) -> None:
    import boto3

    uri = make_bucket("s3")
    name = uri[len("s3://"):]
    client = boto3.client("s3")
    block = client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rules = client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_s3_multipart_etag_verified(s3, make_bucket, tmp_path) -> None:
    """A multipart upload's ETag is recomputed locally; and a foreign multipart object
    (no md5 metadata) is verified on download with its part size."""
    from invindex.storage import Settings

    uri = make_bucket("s3")
    store = get_store(uri, Settings(part_size=5 << 20, threshold=5 << 20))
    src = tmp_path / "big"
    src.write_bytes(os.urandom((11 << 20) + 17))
    info = store.put_file(src, "big")
    assert info.etag.endswith("-3")
    import boto3
    from boto3.s3.transfer import TransferConfig

    boto3.client("s3").upload_file(str(src), uri[5:], "foreign", Config=TransferConfig(
        multipart_threshold=6 << 20, multipart_chunksize=6 << 20))
    foreign = store.info("foreign")
    assert foreign.md5 is None and foreign.etag.endswith("-2")
    store.get_file("foreign", tmp_path / "foreign")
    assert (tmp_path / "foreign").read_bytes() == src.read_bytes()


def test_azure_wrong_key_is_an_auth_error(az, monkeypatch, capsys) -> None:
    import base64

    wrong = base64.b64encode(os.urandom(64)).decode()
    conn = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
    parts = [p if not p.startswith("AccountKey=") else f"AccountKey={wrong}"
             for p in conn.split(";")]
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", ";".join(parts))
    from invindex.cli import main

    assert main(["stage", "ls", "az://anything/"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    # real Azure answers AuthenticationFailed (AuthError); Azurite AuthorizationFailure
    assert len(err) == 1 and ("authentication failed" in err[0] or "access denied" in err[0]), err
    assert wrong not in err[0]


def _client_error(code: str):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"}}, "GetObject")


@pytest.mark.parametrize("code,kind", [
    ("AccessDenied", "AccessDenied"), ("InvalidAccessKeyId", "AuthError"),
    ("SignatureDoesNotMatch", "AuthError"), ("ExpiredToken", "AuthError"),
    ("NoSuchBucket", "BucketNotFound"), ("SlowDown", "StorageError")])
def test_s3_error_codes_map_to_one_line_errors(s3, code, kind) -> None:
    from invindex.storage import errors

    store = get_store("s3://some-bucket")
    with pytest.raises(getattr(errors, kind)) as e, store._errors("k"):
        raise _client_error(code)
    assert "\n" not in str(e.value) and "s3://some-bucket" in str(e.value)


def test_s3_no_credentials(s3, monkeypatch) -> None:
    from invindex.storage import AuthError

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AuthError, match="no AWS credentials found"):
        get_store("s3://some-bucket").info("k")


def test_gcs_errors_map(gcs) -> None:
    from google.api_core import exceptions as gx

    from invindex.storage import AccessDenied, AuthError

    store = get_store("gs://some-bucket")
    with pytest.raises(AccessDenied, match="access denied"), store._errors("k"):
        raise gx.Forbidden("caller does not have storage.objects.get access")
    with pytest.raises(AuthError), store._errors("k"):
        raise gx.Unauthorized("bad token")


def test_unknown_aws_profile_is_one_line(s3, capsys) -> None:
    from invindex.cli import main

    assert main(["stage", "ls", "--profile", "no-such-profile", "s3://b/"]) == 1
    assert capsys.readouterr().err.strip() == (
        "invindex: error: AWS profile 'no-such-profile' not found")


def test_mb_through_cli_then_use(cloud, capsys) -> None:
    import uuid

    from invindex.cli import main

    uri = f"{cloud.scheme}://mb{uuid.uuid4().hex[:12]}"
    assert main(["stage", "mb", uri]) == 0
    assert f"Created {uri}." in capsys.readouterr().err
    assert main(["stage", "mb", f"{uri}/key"]) == 1  # an object is not a bucket
    get_store(uri).put_bytes("k", b"v")
    assert get_store(uri).read_bytes("k") == b"v"
