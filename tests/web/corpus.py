"""The web tests' corpus (hostile texts and ids included) and helpers."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, List, Tuple

from invindex import progress
from invindex.cli import main

XSS = "<script>alert('x')</script>"
ODD_ID = "/q?x#y%z é ü+"  # every character a URL gives a meaning to
HOSTILE_ID = 'evil<script>"&\'/x'
# 23 documents mention "light", so the results have three pages of ten.
RECORDS: List[Tuple[str, str]] = [
    *((f"light/{i:02d}", f"light number {i} " + "filler " * i) for i in range(20)),
    ("genesis", "And God said, Let there be light: and there was light."),
    ("html", f"light {XSS} and <img src=x onerror=alert(1)> & <b>bold</b> darkness"),
    (HOSTILE_ID, "light hostile identifier darkness darkness"),
    ("plain", "nothing to see here"),
    (ODD_ID, "special characters in the identifier"),
]


def build(tmp: Path, name: str, records: List[Tuple[str, str]], *flags: str) -> Path:
    tsv = tmp / f"{name}.tsv"
    tsv.write_text("".join(f"{d}\t{t}\n" for d, t in records), encoding="utf-8")
    out = tmp / name
    assert main(["-q", "build", str(tsv), "--output", str(out), *flags]) == 0
    progress.set_enabled(None)  # -q turned progress bars off for the whole process
    return out


def tree_digest(path: Path) -> Dict[str, str]:
    """Every file's content hash and mode: to show that serving wrote nothing."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            + oct(p.stat().st_mode) for p in sorted(path.rglob("*")) if p.is_file()}


