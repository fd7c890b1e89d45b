"""A small three-part index built once, copied per test so each test can damage it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from invindex.cli import main

from ..conftest import SAMPLE


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("integrity") / "idx"
    assert main(["-q", "build", str(SAMPLE), "--output", str(out), "--parts", "3"]) == 0
    return out


@pytest.fixture
def index(built_index, tmp_path) -> Path:
    copy = tmp_path / "idx"
    shutil.copytree(built_index, copy)
    return copy


def edit_manifest(index: Path, **changes) -> None:
    m = json.loads((index / "_manifest.json").read_text())
    for key, value in changes.items():
        if value is None:
            m.pop(key, None)
        else:
            m[key] = value
    (index / "_manifest.json").write_text(json.dumps(m, indent=2))
