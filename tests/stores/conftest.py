"""Real servers for the store tests: PostgreSQL from Debian's binaries, and DynamoDB on
the session's moto server (``tests/conftest.py``, shared with the storage, EMR and
provisioning tests).

``postgres_server`` runs ``initdb`` into a temporary directory and ``pg_ctl start`` on a
free loopback port (as the ``postgres`` user when the tests run as root: PostgreSQL
refuses to run as root), with a password for TCP logins that the tests pass through
``PGPASSWORD`` only; it stops at the end of the session. A server that cannot start
fails the run under CI (``CI`` set) and skips its tests otherwise.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.conftest import free_port, unavailable, wait_port

PG_USER = "invindex"


def pg_bindir() -> Path | None:
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(found, "initdb").exists() and Path(found, "pg_ctl").exists():
            return Path(found)
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


@dataclass
class Postgres:
    port: int
    password: str

    def uri(self, db: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{db}?sslmode=disable"

    def admin(self):
        import psycopg

        return psycopg.connect(self.uri(), password=self.password, autocommit=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        unavailable(f"psycopg not installed ({e})")
    bindir = pg_bindir()
    if bindir is None:
        unavailable("PostgreSQL server binaries not found (apt-get install postgresql; "
                    "scripts/test.sh does)")
    root = Path(tempfile.mkdtemp(prefix="invindex-pg-"))
    data, pwfile, logfile = root / "data", root / "pw", root / "server.log"
    password = uuid.uuid4().hex  # a throwaway for this one server, never printed
    pwfile.write_text(password + "\n")
    as_postgres: List[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(pwfile, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_postgres, *cmd], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)

    r = run(str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync")
    if r.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"initdb failed: {r.stderr.strip()[-300:]}")
    opts = (f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off")
    r = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(logfile), "-o", opts, "-w",
            "-t", "60", "start")
    if r.returncode != 0 or not wait_port(port):
        log_text = logfile.read_text()[-300:] if logfile.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"pg_ctl start failed: {r.stderr.strip()[-300:]} {log_text}")
    try:
        yield Postgres(port, password)
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_store(postgres_server: Postgres, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database on the test server; the password in ``PGPASSWORD`` only."""
    db = "t_" + uuid.uuid4().hex[:12]
    with postgres_server.admin() as conn:
        conn.execute(f"CREATE DATABASE {db}")
    monkeypatch.setenv("PGPASSWORD", postgres_server.password)
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    return postgres_server.uri(db)


@dataclass
class Moto:
    port: int
    env: Dict[str, str]


@pytest.fixture(scope="session")
def dynamodb_server(moto_server: str) -> Moto:
    """The session's moto server (one per session for every test folder), as DynamoDB."""
    return Moto(int(moto_server.rsplit(":", 1)[1]), {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})


@pytest.fixture
def dynamo_store(dynamodb_server: Moto, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh (not yet created) table name on moto, the SDK aimed at it by env only."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                 "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    for name, value in dynamodb_server.env.items():
        monkeypatch.setenv(name, value)
    return f"dynamodb://t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "postgresql", "dynamodb"])
def store(request: pytest.FixtureRequest) -> str:
    """Each backend in turn: a fresh store URI."""
    fixture = {"sqlite": "sqlite_store", "postgresql": "pg_store",
               "dynamodb": "dynamo_store"}[request.param]
    return request.getfixturevalue(fixture)
