"""The issue's "done when": local -> s3 -> gs -> az -> local through the CLI, byte-identical."""

from __future__ import annotations

import os
import random
import uuid
from pathlib import Path
from typing import Dict

import pytest

from invindex.cli import main


def tree(root: Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def make_corpus(root: Path, big_mb: int = 20, small: int = 200) -> None:
    """``big_mb`` MiB in one file (20: three 8 MiB parts, the last one short, on every
    provider) and ``small`` files of up to 4 KiB."""
    rng = random.Random(4)
    (root / "big").mkdir(parents=True)
    # random bytes in 1 MiB blocks: incompressible, and cheap to make
    with open(root / "big" / "blob.bin", "wb") as f:
        for _ in range(big_mb):
            f.write(rng.randbytes(1 << 20))
    for i in range(small):
        d = root / f"d{i % 7}" / (f"e{i % 3}" if i % 2 else "")
        d.mkdir(parents=True, exist_ok=True)
        (d / f"small-{i:03d}.txt").write_bytes(rng.randbytes(rng.randint(0, 4096)))
    (root / "_SUCCESS").write_bytes(b"")
    (root / "with space ü.txt").write_text("unicode key\n", encoding="utf-8")


def run(*args: str) -> int:
    return main(["-q", "stage", *args])


def test_roundtrip_local_s3_gs_az_local(s3, gcs, az, tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    make_corpus(src)
    name = f"rt{uuid.uuid4().hex[:10]}"
    s3b, gsb, azc = f"s3://{name}", f"gs://{name}", f"az://{name}"
    for bucket in (s3b, gsb, azc):
        assert run("mb", bucket) == 0
    assert run("cp", "-r", str(src), f"{s3b}/data/") == 0
    assert run("cp", "-r", f"{s3b}/data", f"{gsb}/data") == 0
    assert run("cp", "-r", f"{gsb}/data/", f"{azc}/data/") == 0
    assert run("cp", "-r", f"{azc}/data", str(out)) == 0
    expected = tree(src)
    got = tree(out)
    assert sorted(got) == sorted(expected)
    assert got == expected
    assert len(expected) == 203 and len(expected["big/blob.bin"]) == 20 << 20


def test_sync_skips_unchanged(s3, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = tmp_path / "src"
    make_corpus(src, big_mb=9, small=40)
    uri = f"s3://sy{uuid.uuid4().hex[:10]}"
    assert run("mb", uri) == 0
    assert main(["stage", "sync", str(src), f"{uri}/x"]) == 0
    assert "Synced 43 file(s)" in capsys.readouterr().err
    assert main(["stage", "sync", str(src), f"{uri}/x"]) == 0
    assert "Synced 0 file(s)" in capsys.readouterr().err  # and 43 unchanged skipped
    # same size, other bytes: the checksum catches it
    f = src / "d1" / "e1" / "small-001.txt"
    data = bytearray(f.read_bytes() or b"?")
    data[0] ^= 1
    f.write_bytes(bytes(data))
    os.remove(src / "d2" / "small-002.txt")
    assert main(["stage", "sync", "--delete", str(src), f"{uri}/x"]) == 0
    err = capsys.readouterr().err
    assert "Synced 1 file(s)" in err and "41 unchanged skipped" in err and "1 deleted" in err
    # and back down: a local copy that matches is skipped too
    down = tmp_path / "down"
    assert run("sync", f"{uri}/x", str(down)) == 0
    assert tree(down) == tree(src)
    assert main(["stage", "sync", f"{uri}/x", str(down)]) == 0
    assert "Synced 0 file(s)" in capsys.readouterr().err


def test_ls_and_rm(gcs, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    uri = f"gs://ls{uuid.uuid4().hex[:10]}"
    assert run("mb", uri) == 0
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "a" / "sub").mkdir()
    (tmp_path / "a" / "sub" / "y.txt").write_text("yy")
    assert run("cp", "-r", str(tmp_path / "a"), f"{uri}/a") == 0
    capsys.readouterr()
    assert run("ls", f"{uri}/a") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[-1] for line in lines] == [f"{uri}/a/x.txt", f"{uri}/a/sub/"]
    assert run("ls", "-r", f"{uri}/") == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert run("cp", f"{uri}/a/sub/y.txt", str(tmp_path / "dl") + "/") == 0
    assert (tmp_path / "dl" / "y.txt").read_text() == "yy"
    assert run("rm", f"{uri}/a/x.txt") == 0
    assert run("rm", "-r", f"{uri}/a") == 0
    capsys.readouterr()
    assert run("ls", f"{uri}/a") == 1
    assert "no such object or prefix" in capsys.readouterr().err
