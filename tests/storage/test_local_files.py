"""Issue 9, items 6 and 7: what a download leaves on local disk.

6. A partial download has a short temporary name, so a 249-byte basename (and any name
   the filesystem allows) can be downloaded; every emulator stores such keys.
7. Modes as ``cp`` sets them: a new file gets the umask's mode (0666 & ~umask, or the
   source file's mode & ~umask for a local copy), an existing file keeps its own.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from invindex.cli import main
from invindex.storage import get_store

LONG = "n" * 245 + ".tsv"  # 249 bytes; the old '.NAME.xxxxxxxx.part' was 264


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def test_long_basename_downloads(bucket, tmp_path) -> None:
    src = tmp_path / "src"
    src.write_text("d\ttext\n")
    get_store(bucket).put_file(src, f"corpus/{LONG}")
    assert main(["-q", "stage", "cp", "-r", f"{bucket}/corpus/", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / LONG).read_text() == "d\ttext\n"
    assert main(["-q", "stage", "cp", f"{bucket}/corpus/{LONG}", str(tmp_path / "b") + "/"]) == 0
    assert (tmp_path / "b" / LONG).read_text() == "d\ttext\n"
    assert main(["-q", "stage", "sync", f"{bucket}/corpus/", str(tmp_path / "c")]) == 0
    assert os.listdir(tmp_path / "c") == [LONG]


def test_long_basename_large_object_s3(s3, make_bucket, tmp_path) -> None:
    """Above the multipart threshold S3 downloads through s3transfer, which adds its own
    suffix to our temporary name: still short enough."""
    bucket = make_bucket("s3")
    src = tmp_path / "big"
    src.write_bytes(os.urandom(9 << 20))
    get_store(bucket).put_file(src, f"corpus/{LONG}")
    assert main(["-q", "stage", "cp", "-r", f"{bucket}/corpus/", str(tmp_path / "a")]) == 0
    assert (tmp_path / "a" / LONG).read_bytes() == src.read_bytes()


def test_long_basename_local_copy(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / LONG).write_text("x")
    assert main(["-q", "stage", "cp", "-r", str(tmp_path / "src"), str(tmp_path / "dst")]) == 0
    assert (tmp_path / "dst" / LONG).read_text() == "x"


def test_download_modes_as_cp(bucket, tmp_path, umask_027) -> None:
    src = tmp_path / "src"
    src.write_text("new\n")
    get_store(bucket).put_file(src, "m/new.txt")
    get_store(bucket).put_file(src, "m/old.txt")
    dest = tmp_path / "dest"
    dest.mkdir()
    old = dest / "old.txt"
    old.write_text("before\n")
    old.chmod(0o754)
    assert main(["-q", "stage", "cp", "-r", f"{bucket}/m/", str(dest)]) == 0
    assert old.read_text() == "new\n"
    assert _mode(old) == 0o754                     # existing: its own mode
    assert _mode(dest / "new.txt") == 0o640        # new: 0666 & ~027
    old.chmod(0o600)
    assert main(["-q", "stage", "cp", f"{bucket}/m/old.txt", str(old)]) == 0
    assert _mode(old) == 0o600


def test_local_copy_modes_as_cp(tmp_path, umask_027) -> None:
    src = tmp_path / "run.sh"
    src.write_text("#!/bin/sh\n")
    src.chmod(0o775)
    assert main(["-q", "stage", "cp", str(src), str(tmp_path / "new.sh")]) == 0
    assert _mode(tmp_path / "new.sh") == 0o750     # source mode & ~umask
    old = tmp_path / "old.sh"
    old.write_text("")
    old.chmod(0o644)
    assert main(["-q", "stage", "cp", str(src), str(old)]) == 0
    assert _mode(old) == 0o644 and old.read_text() == "#!/bin/sh\n"
