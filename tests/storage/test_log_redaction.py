"""Issue 9, item 5: secrets never reach a ``-vv`` log.

``-v``/``-vv`` turn up invindex's own loggers only; the SDKs' wire logs (urllib3,
botocore, azure-core, google) need ``--sdk-logs`` (or ``INVINDEX_SDK_LOGS=1``), and even
then a logging filter redacts signatures, tokens, keys and ``Authorization`` headers.
Run as a subprocess, as a user runs it, so that logging is configured as in real use
(pytest's own handlers would otherwise keep ``basicConfig`` from doing anything).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from invindex.logconfig import redact
from invindex.storage import get_store

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(args, env) -> subprocess.CompletedProcess:
    full = {**os.environ, **env, "PYTHONPATH": ROOT + os.pathsep + os.environ.get(
        "PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "invindex", *args], env=full,
                          capture_output=True, text=True, timeout=120)


def _sas_connection_string(az_env: dict) -> tuple:
    """A SAS connection string for Azurite's account, and the SAS's signature."""
    from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

    conn = dict(item.split("=", 1) for item in
                az_env["AZURE_STORAGE_CONNECTION_STRING"].rstrip(";").split(";"))
    sas = generate_account_sas(conn["AccountName"], conn["AccountKey"],
                               ResourceTypes(service=True, container=True, object=True),
                               AccountSasPermissions(read=True, list=True),
                               expiry=datetime.now(UTC) + timedelta(hours=1))
    sig = re.search(r"(?:^|&)sig=([^&]+)", sas).group(1)
    return f"BlobEndpoint={conn['BlobEndpoint']};SharedAccessSignature={sas}", sig


def _secrets_absent(text: str, *secrets: str) -> None:
    """Neither as given nor percent-decoded (SDKs re-quote a SAS their own way)."""
    for secret in secrets:
        for form in {secret, unquote(secret)}:
            assert form not in text and form not in unquote(text), \
                f"secret {form[:6]}... leaked"


@pytest.fixture
def az_container(az, tmp_path) -> str:
    name = f"log{uuid.uuid4().hex[:10]}"
    store = get_store(f"az://{name}")
    store.make_bucket()
    store.put_bytes("corpus/a.tsv", b"d\tx\n")
    return name


def test_vv_with_sas_connection_string_azurite(az, az_container) -> None:
    conn, sig = _sas_connection_string(az.env)
    env = {"AZURE_STORAGE_CONNECTION_STRING": conn}
    plain = _run(["-vv", "stage", "ls", f"az://{az_container}/corpus/"], env)
    assert plain.returncode == 0, plain.stderr
    assert "corpus/a.tsv" in plain.stdout
    _secrets_absent(plain.stderr, sig)
    assert "urllib3" not in plain.stderr and "azure" not in plain.stderr  # own loggers only
    wire = _run(["-vv", "--sdk-logs", "stage", "ls", f"az://{az_container}/corpus/"], env)
    assert wire.returncode == 0, wire.stderr
    assert "urllib3.connectionpool" in wire.stderr  # the wire log is there...
    assert "sig=REDACTED" in wire.stderr            # ...with the signature taken out
    _secrets_absent(wire.stderr, sig)
    viaenv = _run(["-vv", "stage", "ls", f"az://{az_container}/corpus/"],
                  {**env, "INVINDEX_SDK_LOGS": "1"})
    assert "urllib3.connectionpool" in viaenv.stderr
    _secrets_absent(viaenv.stderr, sig)


def test_vv_with_session_token_moto(s3, make_bucket) -> None:
    bucket = make_bucket("s3")
    get_store(bucket).put_bytes("corpus/a.tsv", b"d\tx\n")
    token = "FwoGZXIvYXdzE" + uuid.uuid4().hex * 4   # moto accepts any token
    secret = "wJalrXUtnFEMI" + uuid.uuid4().hex
    env = {"AWS_SESSION_TOKEN": token, "AWS_SECRET_ACCESS_KEY": secret}
    plain = _run(["-vv", "stage", "ls", f"{bucket}/corpus/"], env)
    assert plain.returncode == 0, plain.stderr
    assert "botocore" not in plain.stderr and "urllib3" not in plain.stderr
    _secrets_absent(plain.stderr, token, secret)
    wire = _run(["-vv", "--sdk-logs", "stage", "ls", f"{bucket}/corpus/"], env)
    assert wire.returncode == 0, wire.stderr
    assert "botocore" in wire.stderr and "x-amz-security-token" in wire.stderr.lower()
    _secrets_absent(wire.stderr, token, secret)
    assert not re.search(r"Signature=[0-9a-f]{16}", wire.stderr)


@pytest.mark.parametrize("line,secret", [
    ("GET /c?comp=list&sv=2024&sig=abc%2Bdef%3D&se=2030 HTTP/1.1", "abc%2Bdef%3D"),
    ("{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=0a1b2c'}", "0a1b2c"),
    ("'Authorization': 'Bearer ya29.tok-en'", "ya29.tok-en"),
    ("Authorization: SharedKey acct:c2lnbmF0dXJl", "c2lnbmF0dXJl"),
    ("x-amz-security-token:FwoGZXIvYXdz\nhost:x", "FwoGZXIvYXdz"),
    ("'X-Amz-Security-Token': b'FwoGZXIvYXdz'", "FwoGZXIvYXdz"),
    ("?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA%2Fx", "deadbeef"),
    ("AccountName=a;AccountKey=Eby8vdM02x==;BlobEndpoint=http://h", "Eby8vdM02x=="),
    ("SharedAccessSignature=sv=2020&sig=xyz%3D", "xyz%3D"),
    # the PEM header is assembled so that no key-shaped literal sits in the repository
    ('{"private_key": "-----BEGIN ' + 'PRIVATE KEY-----\\nMIIE"}', "MIIE"),
    ("x-goog-signature=0badc0de&access_token=ya29.a0", "0badc0de"),
    ("aws_secret_access_key = wJalrXUtn", "wJalrXUtn"),
])
def test_redact_patterns(line, secret) -> None:
    out = redact(line)
    assert secret not in out and "REDACTED" in out


def test_filter_redacts_args_and_known_values(monkeypatch) -> None:
    """The filter formats the record first (secrets often arrive as %-args) and also
    removes the values of credential variables wherever they appear."""
    from invindex.logconfig import RedactFilter

    monkeypatch.setenv("AWS_SESSION_TOKEN", "tok-12345-secret")
    record = logging.LogRecord("urllib3", logging.DEBUG, __file__, 1,
                               "%s %s", ("url?sig=abc", "raw tok-12345-secret"), None)
    assert RedactFilter().filter(record)
    assert record.getMessage() == "url?sig=REDACTED raw REDACTED"


def test_error_line_is_redacted(monkeypatch, capsys) -> None:
    """An error message that quotes a URL (urllib3's 'Max retries exceeded with url:
    /c?...&sig=...') is printed without the signature."""
    from invindex.cli import main
    from invindex.cli import stage_actions as stage_cli
    from invindex.storage import StorageError

    def fail(*_a, **_k):
        raise StorageError("cannot reach Azure Blob storage: Max retries exceeded with url: "
                           "/c?restype=container&sig=S3CRETsig%3D")
    monkeypatch.setattr(stage_cli, "get_store", fail)
    assert main(["stage", "ls", "az://c/x"]) == 1
    err = capsys.readouterr().err
    assert "S3CRETsig" not in err and "sig=REDACTED" in err
