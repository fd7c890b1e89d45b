"""Writing a cluster spec for a test: the TOML written indented in the test, dedented."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_spec(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path
