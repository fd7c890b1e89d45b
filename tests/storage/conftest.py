"""The storage tests' view of the emulators, one per backend.

The servers are the session's, started once for every test folder by
``tests/conftest.py`` (moto's server in process, gcp-storage-emulator and Azurite as
subprocesses). Per-test fixtures point the SDKs at them through the standard
environment variables only. An emulator that cannot start fails the run under CI
(``CI`` set) and skips its tests otherwise, with the reason.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Azurite's fixed development account, as published in Microsoft's Azurite docs
# ("Authorization for tools and SDKs"); it opens nothing but a local emulator.
_AZURITE_ACCOUNT = "devstoreaccount1"
_AZURITE_KEY_PARTS = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
                      "/K1SZFPTOtr/KBHBeksoGMGw==")

# Settings every storage test runs with: nothing from the developer's own clouds.
_CLEAN_ENV = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3",
              "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY",
              "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"]


@dataclass
class Emulator:
    scheme: str
    port: int
    env: Dict[str, str] = field(default_factory=dict)

    def env_for(self, port: int) -> Dict[str, str]:
        """The same settings aimed at another port (a proxy in front of this one)."""
        return {k: v.replace(f":{self.port}", f":{port}") for k, v in self.env.items()}


def azurite_connection_string(port: int) -> str:
    key = "".join(_AZURITE_KEY_PARTS)
    return (f"DefaultEndpointsProtocol=http;AccountName={_AZURITE_ACCOUNT};AccountKey={key};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{_AZURITE_ACCOUNT};")


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="session")
def s3_emulator(moto_server: str) -> Emulator:
    """The session's moto server (``tests/conftest.py``), as S3."""
    return Emulator("s3", _port(moto_server), {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})


@pytest.fixture(scope="session")
def gcs_emulator(gcs_server: str) -> Emulator:
    return Emulator("gs", _port(gcs_server), {"STORAGE_EMULATOR_HOST": gcs_server,
                                              "GOOGLE_CLOUD_PROJECT": "invindex-test"})


@pytest.fixture(scope="session")
def az_emulator(azurite_server: int) -> Emulator:
    return Emulator("az", azurite_server, {"AZURE_STORAGE_CONNECTION_STRING":
                                           azurite_connection_string(azurite_server)})


def _apply(monkeypatch: pytest.MonkeyPatch, env: Dict[str, str]) -> None:
    for name in _CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3(s3_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    _apply(monkeypatch, s3_emulator.env)
    return s3_emulator


@pytest.fixture
def gcs(gcs_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    _apply(monkeypatch, gcs_emulator.env)
    return gcs_emulator


@pytest.fixture
def az(az_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    _apply(monkeypatch, az_emulator.env)
    return az_emulator


@pytest.fixture(params=["s3", "gs", "az"])
def cloud(request: pytest.FixtureRequest) -> Emulator:
    """Each backend in turn, its environment set."""
    return request.getfixturevalue({"s3": "s3", "gs": "gcs", "az": "az"}[request.param])


def new_bucket(scheme: str) -> str:
    """A fresh bucket/container URI (created through the code under test)."""
    from invindex.storage import get_store

    uri = f"{scheme}://t{uuid.uuid4().hex[:16]}"
    get_store(uri).make_bucket()
    return uri


@pytest.fixture
def bucket(cloud: Emulator) -> str:
    return new_bucket(cloud.scheme)


@pytest.fixture
def make_bucket():
    """``make_bucket("s3")`` -> a fresh bucket URI (the backend's env must be set)."""
    return new_bucket
