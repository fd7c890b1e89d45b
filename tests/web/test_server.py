"""``invindex serve`` as a real process (waitress) on a free loopback port: it answers,
refuses a foreign Host and oversized headers, shows no stack trace, stops on SIGINT."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]


def test_serve_process(indexes):
    proc = subprocess.Popen(
        [sys.executable, "-m", "invindex", "serve", str(indexes["text"]), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        line = proc.stdout.readline()
        assert line.startswith("invindex: serving on http://127.0.0.1:"), proc.stderr.read()
        url = urlsplit(line.split()[-1])

        def get(path, **headers):
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            out = resp.status, dict(resp.getheaders()), resp.read().decode()
            conn.close()
            return out

        status, headers, body = get("/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert headers["Server"] == "invindex" and headers["X-Frame-Options"] == "DENY"
        status, _, body = get("/api/search?q=light&k=3", Host="localhost")
        assert status == 200 and len(json.loads(body)["hits"]) == 3
        status, _, body = get("/", Host="attacker.example")
        assert status == 400 and "Traceback" not in body
        status, _, _ = get("/healthz", **{"X-Big": "x" * 20_000})
        assert status == 431  # waitress: headers over 16 KB
        status, _, body = get("/api/search?q=%22unterminated")
        assert status == 400 and "Traceback" not in body
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    assert code == 0
    err = proc.stderr.read()
    assert "Traceback" not in err
    assert "WARNING django.security.DisallowedHost: Invalid HTTP_HOST header: " \
        "'attacker.example'" in err
