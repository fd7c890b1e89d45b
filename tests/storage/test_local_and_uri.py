"""URI parsing, the local Store, checksums and one-line errors: no emulator needed."""

from __future__ import annotations

import builtins
import hashlib
import os

import pytest

from invindex.cli import main
from invindex.errors import UsageError
from invindex.storage import MissingExtra, ObjectNotFound, get_store, locate, parse_uri
from invindex.storage.base import RangedReader
from invindex.storage.checksum import file_digests
from invindex.storage.transfer import copy, remove, sync


@pytest.mark.parametrize("text,scheme,bucket,key,account", [
    ("docs/a.tsv", "file", "", "docs/a.tsv", None),
    ("file:///tmp/x", "file", "", "/tmp/x", None),
    ("s3://b/k/x.gz", "s3", "b", "k/x.gz", None),
    ("s3a://b/k", "s3", "b", "k", None),
    ("gs://b", "gs", "b", "", None),
    ("gcs://b/", "gs", "b", "", None),
    ("az://c/p/q", "az", "c", "p/q", None),
    ("wasbs://c@acct.blob.core.windows.net/p", "az", "c", "p", "acct"),
    ("abfss://c@Acct.dfs.core.windows.net/p/q", "az", "c", "p/q", "acct"),
])
def test_parse_uri(text, scheme, bucket, key, account) -> None:
    u = parse_uri(text)
    assert (u.scheme, u.bucket, u.key, u.account) == (scheme, bucket, key, account)


@pytest.mark.parametrize("bad", ["ftp://x/y", "s3:///k", "file://relative",
                                 "wasbs://c@evil.example.com/p"])
def test_parse_uri_rejects(bad) -> None:
    with pytest.raises(UsageError):
        parse_uri(bad)


def test_join_and_dir_like() -> None:
    assert parse_uri("s3://b/p").join("x/y").key == "p/x/y"
    assert parse_uri("s3://b/p/").join("x").key == "p/x"
    assert parse_uri("s3://b").join("x").key == "x"
    assert parse_uri("gs://b/").dir_like and parse_uri("gs://b/p/").dir_like
    assert not parse_uri("gs://b/p").dir_like


def test_multipart_etag_matches_s3s_rule(tmp_path) -> None:
    data = os.urandom(11 << 20)
    path = tmp_path / "f"
    path.write_bytes(data)
    part = 5 << 20
    md5s = [hashlib.md5(data[i:i + part]).digest() for i in range(0, len(data), part)]
    want = f"{hashlib.md5(b''.join(md5s)).hexdigest()}-3"
    got = file_digests(path, ("md5", "etag", "crc32c"), part)
    assert got["etag"] == want and got["md5"] == hashlib.md5(data).hexdigest()
    assert file_digests(tmp_path / "f", ("crc32c",))["crc32c"] == got["crc32c"]
    (tmp_path / "e").write_bytes(b"123456789")
    assert file_digests(tmp_path / "e", ("crc32c",))["crc32c"] == "e3069283"  # RFC 3720


def test_local_copy_sync_remove(tmp_path) -> None:
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "x.txt").write_text("x")
    (src / "y.bin").write_bytes(os.urandom(3000))
    summary = copy(str(src), str(tmp_path / "dst"), recursive=True)
    assert summary.files == 2
    assert (tmp_path / "dst" / "a" / "b" / "x.txt").read_text() == "x"
    assert sync(str(src), str(tmp_path / "dst")).skipped == 2
    copy(str(src / "y.bin"), str(tmp_path / "dst") + "/")  # into a directory
    with pytest.raises(Exception, match="directory"):
        copy(str(src), str(tmp_path / "z"))  # a directory without -r
    assert remove(str(tmp_path / "dst"), recursive=True) == 2
    assert not (tmp_path / "dst").exists()
    with pytest.raises(ObjectNotFound):
        remove(str(tmp_path / "nope"))


def test_ranged_reader_blocks_and_cache(tmp_path) -> None:
    data = os.urandom(1000)
    (tmp_path / "f").write_bytes(data)
    store, key = locate(str(tmp_path / "f"))
    r = RangedReader(store, key, len(data), block_size=100, cache_blocks=4)
    r.seek(150)
    assert r.read(120) == data[150:270] and r.requests == 2  # blocks 1 and 2
    r.seek(160)
    assert r.read(10) == data[160:170] and r.requests == 2  # cached
    r.seek(-5, os.SEEK_END)
    assert r.read(100) == data[-5:] and r.read(1) == b""


def test_missing_sdk_names_the_extra(monkeypatch) -> None:
    real_import = builtins.__import__

    def no_boto(name, *args, **kwargs):
        if name == "boto3" or name.startswith("boto3."):
            raise ImportError(name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_boto)
    monkeypatch.delitem(__import__("sys").modules, "boto3", raising=False)
    with pytest.raises(MissingExtra, match=r"invindex\[aws\]"):
        get_store("s3://bucket")


def test_cli_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["stage", "cp", str(tmp_path / "missing"), str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"invindex: error: {tmp_path / 'missing'}: no such file"]
    assert main(["stage", "ls", "ftp://x/y"]) == 2
    assert "unsupported storage scheme" in capsys.readouterr().err


def test_az_without_account_says_how(monkeypatch) -> None:
    for name in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(Exception, match="AZURE_STORAGE_ACCOUNT"):
        get_store("az://container")
