"""Our own integrity checks, tripped by a proxy that flips a byte in transit.

The emulators never corrupt data and do not all validate checksums (moto ignores
Content-MD5/CRC32, gcp-storage-emulator a wrong CRC32C), so corruption is injected
between the SDK and the emulator, and the check that must fail is ours.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from faultproxy import FaultProxy

from invindex.cli import main
from invindex.storage import IntegrityError, Settings, StorageError, get_store


@pytest.fixture
def corrupting(cloud, bucket, monkeypatch):
    """``corrupting(reads=True)`` -> a FaultProxy in front of the emulator, env aimed at it."""
    proxies = []
    monkeypatch.setenv("INVINDEX_STORAGE_RETRIES", "1")  # Azure retries corrupt responses

    def start(reads: bool = False, writes: bool = False) -> FaultProxy:
        proxy = FaultProxy(cloud.port, corrupt_reads=reads, corrupt_writes=writes).start()
        proxies.append(proxy)
        for name, value in cloud.env_for(proxy.port).items():
            monkeypatch.setenv(name, value)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


def leftovers(directory: Path) -> list:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.mark.parametrize("size", [200_000, 9 << 20], ids=["small", "multipart"])
def test_corrupted_download_fails_and_leaves_nothing(cloud, bucket, corrupting, tmp_path, size,
                                                     monkeypatch):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(size))
    get_store(bucket).put_file(src, "obj")
    proxy = corrupting(reads=True)
    if cloud.scheme == "s3":  # botocore would catch it by CRC32 first: test our MD5 check
        monkeypatch.setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
    out = tmp_path / "out"
    with pytest.raises(IntegrityError):
        get_store(bucket).get_file("obj", out / "obj.bin")
    assert proxy.counts["corrupted"] >= 1
    assert leftovers(out) == []  # not the file, not a temporary


def test_corrupted_download_through_cli_is_one_line(bucket, corrupting, tmp_path, capsys):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(100_000))
    get_store(bucket).put_file(src, "obj")
    corrupting(reads=True)
    assert main(["-q", "stage", "cp", f"{bucket}/obj", str(tmp_path / "dl.bin")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("invindex: error: ")
    assert "mismatch" in err[0] or "corrupt" in err[0]
    assert not (tmp_path / "dl.bin").exists()


@pytest.mark.parametrize("size", [200_000, 9 << 20], ids=["small", "multipart"])
def test_corrupted_upload_is_refused_and_removed(cloud, bucket, corrupting, tmp_path, size):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(size))
    proxy = corrupting(writes=True)
    store = get_store(bucket, Settings())
    with pytest.raises(StorageError) as e:
        store.put_file(src, "up")
    assert proxy.counts["corrupted"] >= 1
    # ours (IntegrityError) or the service's own check (Azure verifies block MD5s)
    assert isinstance(e.value, IntegrityError) or "Md5Mismatch" in str(e.value) or \
        "400" in str(e.value)
    assert not store.exists("up")
