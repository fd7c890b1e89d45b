"""pyproject metadata in today's form: ``pip install -e .`` warns about a TOML-table
license (deprecated by PEP 639, removed from setuptools in 2026)."""

from __future__ import annotations

import tomllib

from ..conftest import REPO


def test_license_is_an_spdx_string():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert meta["project"]["license"] == "Apache-2.0"
    # setuptools reads the SPDX string form (PEP 639) from 77 on
    assert "setuptools>=77" in meta["build-system"]["requires"]
