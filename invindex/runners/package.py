"""What a cluster node needs to run the job: ``invindex.zip`` and the streaming scripts.

Nodes have their own python3 (3.9 on EMR 7) and nothing of ours installed, so the
core travels with the job: a zip of ``invindex/__init__.py``, ``invindex/core/`` and
the pure-Python ``snowballstemmer`` it stems with. The zip goes on ``PYTHONPATH``
(mrjob's ``py_files``, Spark's ``--py-files``) or beside ``mapper.py``/``reducer.py``
(Hadoop's ``-files``), where the scripts look for it. It is reproducible (sorted
entries, fixed timestamps), so the same code gives the same bytes and upload name.
"""

from __future__ import annotations

import hashlib
import zipfile
from importlib import metadata
from pathlib import Path
from typing import List, Tuple

import snowballstemmer

import invindex

ZIP_NAME = "invindex.zip"
_PACKAGE_DIR = Path(invindex.__file__).resolve().parent
_REPO = _PACKAGE_DIR.parent
_EPOCH = (1980, 1, 1, 0, 0, 0)


def node_files() -> List[Tuple[str, Path]]:
    """``(name in the zip, source path)`` of what runs on nodes: the package's core
    and the pure-Python packages it imports (``snowballstemmer``, with its licence)."""
    files = [("invindex/__init__.py", _PACKAGE_DIR / "__init__.py")]
    for path in sorted((_PACKAGE_DIR / "core").glob("*.py")):
        files.append((f"invindex/core/{path.name}", path))
    stemmer_dir = Path(snowballstemmer.__file__).resolve().parent
    for path in sorted(stemmer_dir.glob("*.py")):
        files.append((f"snowballstemmer/{path.name}", path))
    for dist_file in metadata.files("snowballstemmer") or []:
        if dist_file.name.upper().startswith(("LICENSE", "COPYING")):
            files.append((f"snowballstemmer/{dist_file.name}", Path(dist_file.locate())))
    return files


def build_zip(dest_dir: str | Path) -> Path:
    """Write ``dest_dir/invindex.zip`` (the node-side code) and return its path."""
    dest = Path(dest_dir) / ZIP_NAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in node_files():
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    return dest


def zip_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


_SCRIPT = """#!/usr/bin/env python3
# invindex Hadoop-streaming {role}, written by invindex for a cluster: it runs the
# invindex.zip shipped beside it (ahead of any invindex installed on the node), with
# the node's python3 (3.9+) and nothing but the standard library.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "invindex.zip"))
from invindex.core import stream_{role}, streaming  # noqa: E402

if __name__ == "__main__":
    streaming.run(stream_{role}.{role}_main)
"""


def write_streaming_files(dest_dir: str | Path) -> List[Path]:
    """``mapper.py``, ``reducer.py`` and ``invindex.zip`` in ``dest_dir``: what
    ``hadoop jar hadoop-streaming.jar -files ...`` ships to every task."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for role in ("mapper", "reducer"):
        path = dest / f"{role}.py"
        path.write_text(_SCRIPT.format(role=role), encoding="utf-8")
        path.chmod(0o755)
        out.append(path)
    return out + [build_zip(dest)]


def job_script() -> Path:
    """``jobs/mr_invindex.py``: mrjob uploads it and runs it on the nodes."""
    return (Path(__file__).parent / "mr_invindex.py").resolve()  # a link to it
