"""Web test fixtures: real indexes built by ``invindex build`` (hostile texts included),
Django configured once for the test client, and a site installed per test."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator

import pytest

django = pytest.importorskip("django")

from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from invindex.search.source import IndexDirSource  # noqa: E402
from invindex.web import settings  # noqa: E402
from invindex.web.site import SearchSite, install  # noqa: E402

from .corpus import RECORDS, build  # noqa: E402


@pytest.fixture(scope="session")
def indexes(tmp_path_factory) -> Dict[str, Path]:
    tmp = tmp_path_factory.mktemp("web-indexes")
    return {"text": build(tmp, "text", RECORDS, "--store-text"),
            "bare": build(tmp, "bare", RECORDS, "--no-positions")}


@pytest.fixture(scope="session", autouse=True)
def django_configured():
    settings.setup(["127.0.0.1", "localhost"])
    setup_test_environment()  # adds "testserver", the test client's host
    yield


@pytest.fixture
def site(indexes) -> Iterator[SearchSite]:
    s = SearchSite(IndexDirSource(str(indexes["text"])), "text")
    install(s)
    yield s


@pytest.fixture
def bare_site(indexes) -> Iterator[SearchSite]:
    s = SearchSite(IndexDirSource(str(indexes["bare"])), "bare")
    install(s)
    yield s


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)
