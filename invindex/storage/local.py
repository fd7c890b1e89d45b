"""Local disk as a Store: keys are paths; writes go to a temporary name and are renamed.

So that copying to a directory behaves like uploading to a bucket: nothing at the
destination path until the whole file is there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterator

from .base import Callback, ObjectInfo, Store, replace_as_cp, temp_beside
from .errors import AccessDenied, ObjectNotFound, StorageError

_COPY_BLOCK = 1 << 20


def _copy(src: str, dst: str, callback: Callback) -> None:
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while True:
            block = fi.read(_COPY_BLOCK)
            if not block:
                break
            fo.write(block)
            if callback:
                callback(len(block))


class LocalStore(Store):
    scheme = "file"

    def __init__(self, uri, settings=None) -> None:
        super().__init__(uri, settings)
        self.path = uri.key  # what make_bucket creates

    def uri(self, key: str = "") -> str:
        return key

    def _stat(self, path: str) -> ObjectInfo:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise ObjectNotFound(f"{path}: no such file") from None
        except PermissionError:
            raise AccessDenied(f"{path}: permission denied") from None
        if os.path.isdir(path):
            return ObjectInfo(path, 0, mtime=st.st_mtime, is_dir=True)
        return ObjectInfo(path, st.st_size, mtime=st.st_mtime)

    def info(self, key: str) -> ObjectInfo:
        info = self._stat(key)
        if info.is_dir:
            raise ObjectNotFound(f"{key} is a directory")
        return info

    def list(self, prefix: str, recursive: bool = True) -> Iterator[ObjectInfo]:
        if os.path.isfile(prefix):
            yield self._stat(prefix)
            return
        if not os.path.isdir(prefix):
            return
        if not recursive:
            for entry in sorted(os.scandir(prefix), key=lambda e: e.name):
                yield self._stat(entry.path)
            return
        for root, dirs, names in os.walk(prefix, onerror=_raise):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(root, name)
                if os.path.isfile(path):
                    yield self._stat(path)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        try:
            with open(key, "rb") as f:
                f.seek(start)
                return f.read(length)
        except FileNotFoundError:
            raise ObjectNotFound(f"{key}: no such file") from None

    def open(self, key: str, info: ObjectInfo | None = None, block_size: int = 1 << 16):
        try:
            return open(key, "rb")
        except FileNotFoundError:
            raise ObjectNotFound(f"{key}: no such file") from None

    def put_file(self, path: str | os.PathLike[str], key: str,
                 callback: Callback = None) -> ObjectInfo:
        dest = Path(key)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with temp_beside(dest) as tmp:
                _copy(os.fspath(path), tmp, callback)
                replace_as_cp(tmp, dest, stat.S_IMODE(os.stat(path).st_mode))
        except PermissionError as e:
            raise AccessDenied(f"{e.filename}: permission denied") from None
        except IsADirectoryError:
            raise StorageError(f"{key} is a directory") from None
        return self.info(key)

    def _download(self, info: ObjectInfo, dest: str, callback: Callback) -> None:
        _copy(info.key, dest, callback)

    def verify_file(self, path: str, info: ObjectInfo) -> None:
        size = os.path.getsize(path)
        if size != info.size:
            raise StorageError(f"{info.key} changed while it was copied")

    def delete(self, key: str) -> None:
        try:
            os.remove(key)
        except FileNotFoundError:
            pass
        except PermissionError:
            raise AccessDenied(f"{key}: permission denied") from None

    def make_bucket(self) -> None:
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
        except PermissionError:
            raise AccessDenied(f"{self.path}: permission denied") from None


def _raise(e: OSError) -> None:
    if isinstance(e, PermissionError):
        raise AccessDenied(f"{e.filename}: permission denied")
    raise StorageError(f"{e.filename}: {e.strerror}")
