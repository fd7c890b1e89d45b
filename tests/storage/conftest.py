"""Real emulators for the storage tests, one per backend, on free loopback ports.

Session fixtures start moto's S3 server (in process), gcp-storage-emulator (a
subprocess) and Azurite (``tests/emulators/node_modules/.bin/azurite-blob``, run
directly so the PID we stop is the server's) and stop them at the end. Per-test
fixtures point the SDKs at them through the standard environment variables only.
An emulator that cannot start fails the run under CI (``CI`` set) and skips its tests
otherwise, with the reason.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / "tests" / "emulators" / "node_modules" / ".bin" / "azurite-blob"

# Azurite's fixed development account, as published in Microsoft's Azurite docs
# ("Authorization for tools and SDKs"); it opens nothing but a local emulator.
_AZURITE_ACCOUNT = "devstoreaccount1"
_AZURITE_KEY_PARTS = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq",
                      "/K1SZFPTOtr/KBHBeksoGMGw==")

# Settings every storage test runs with: nothing from the developer's own clouds.
_CLEAN_ENV = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3",
              "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY",
              "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"]


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"emulator unavailable under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the emulator gets SIGTERM if pytest dies without tearing down."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def stop(proc: subprocess.Popen, grace: float = 1) -> None:
    """Terminate; kill after ``grace`` s (Azurite waits for idle keep-alive clients)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


@pytest.fixture(scope="session")
def s3_emulator() -> Iterator[Emulator]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as e:
        unavailable(f"moto[server] not installed ({e})")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    try:
        server.start()
    except Exception as e:  # pragma: no cover - depends on the machine
        unavailable(f"moto server did not start: {e}")
    if not wait_port(port, timeout=20):
        server.stop()
        unavailable("moto server did not listen")
    yield Emulator("s3", port, {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    server.stop()


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory) -> Iterator[Emulator]:
    try:
        import gcp_storage_emulator  # noqa: F401
    except ImportError as e:
        unavailable(f"gcp-storage-emulator not installed ({e})")
    port = free_port()
    log = tmp_path_factory.mktemp("gcs") / "emulator.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gcp_storage_emulator", "start", "--host",
                                 "127.0.0.1", "--port", str(port), "--in-memory", "--quiet"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    if not wait_port(port, proc, timeout=30):
        stop(proc)
        unavailable(f"gcp-storage-emulator did not start (see {log})")
    yield Emulator("gs", port, {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}",
                                "GOOGLE_CLOUD_PROJECT": "invindex-test"})
    stop(proc)


@pytest.fixture(scope="session")
def az_emulator(tmp_path_factory) -> Iterator[Emulator]:
    if not AZURITE.exists():
        unavailable(f"Azurite not installed: run `npm install` in {AZURITE.parents[2]} "
                    "(scripts/test.sh does)")
    if shutil.which("node") is None:
        unavailable("Azurite needs Node.js (node not on PATH)")
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    log = location / "azurite.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(AZURITE), "--skipApiVersionCheck", "--blobHost",
                                 "127.0.0.1", "--blobPort", str(port), "--location",
                                 str(location / "data"), "--silent"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    if not wait_port(port, proc, timeout=60):
        stop(proc)
        unavailable(f"Azurite did not start (see {log})")
    yield Emulator("az", port, {"AZURE_STORAGE_CONNECTION_STRING":
                                azurite_connection_string(port)})
    stop(proc)


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
