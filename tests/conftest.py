"""Shared fixtures: paths, a CLI runner that captures output, index helpers."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "docs.tsv"
SCRIPTS = REPO / "scripts"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli():
    """Run ``invindex ...`` in-process; returns exit code, stdout and stderr."""
    from invindex import progress
    from invindex.cli import main

    def run(*args: str) -> CliResult:
        # A text stream with a .buffer, since `prepare` writes bytes to stdout.
        stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        err = io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse exits
                code = int(e.code or 0)
        stdout.flush()
        progress.set_enabled(None)
        return CliResult(code, stdout.buffer.getvalue().decode("utf-8"), err.getvalue())

    return run


def read_index_lines(index_dir: Path) -> List[str]:
    """All index lines of all parts, byte-sorted (the set every runner must agree on)."""
    lines: List[str] = []
    for part in sorted(index_dir.glob("part-*")):
        # split on \n only: str.splitlines() would also break at U+0085, U+2028, ...
        lines.extend(part.read_bytes().decode("utf-8").split("\n")[:-1])
    return sorted(lines, key=lambda s: s.encode("utf-8"))


@pytest.fixture(scope="session")
def python39() -> str:
    """A Python 3.9 interpreter (the python3 of EMR nodes), if this machine has one."""
    import shutil

    for cand in ("python3.9", str(Path.home() / ".pyenv/versions/3.9.18/bin/python3.9")):
        path = shutil.which(cand) or (cand if Path(cand).exists() else None)
        if path:
            import subprocess

            ok = subprocess.run([path, "-c", "import sys; assert sys.version_info[:2]==(3,9)"],
                                capture_output=True)
            if ok.returncode == 0:
                return path
    pytest.skip("no Python 3.9 on this machine")


def pytest_configure(config):
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
