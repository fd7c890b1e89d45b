"""Fixtures for the provisioning tests: the session's moto server (tests/conftest.py).

Dummy credentials exist only inside these fixtures (monkeypatched environment); the code
under test finds them through boto3's ordinary default chain, as it would real ones.
"""

from __future__ import annotations

import pytest
from _moto_emr import add_managed_scaling

from invindex.provision import engine


@pytest.fixture(scope="session")
def moto_endpoint(moto_server: str) -> str:
    """The session's moto server (``tests/conftest.py``). moto's run_job_flow does not
    check that the EMR roles exist, so IAM's managed policies
    (MOTO_IAM_LOAD_MANAGED_POLICIES, ~5 s per reset) are not loaded."""
    return moto_server


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    """A clean moto account: endpoint and dummy credentials via the environment."""
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=120).raise_for_status()
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("INVINDEX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(engine, "POLL_INTERVAL", 0.05)
    monkeypatch.setattr(engine, "POLL_TIMEOUT", 20.0)
    add_managed_scaling(monkeypatch)  # moto lacks EMR managed scaling: _moto_emr.py
    return moto_endpoint


@pytest.fixture
def state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path):
    path = tmp_path / "state"
    monkeypatch.setenv("INVINDEX_STATE_DIR", str(path))
    monkeypatch.setattr(engine, "POLL_INTERVAL", 0.01)
    return path
