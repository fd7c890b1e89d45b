"""A small HTTP reverse proxy that misbehaves on purpose, in front of an emulator.

Per request (seeded, so a failure reproduces) it may answer 503, drop the connection
before forwarding, or forward and flip one byte of a large response body (to test our
own integrity checks, which the emulators would never trip). Resumable-upload
``Location`` headers are rewritten to point back at the proxy.

It also keeps a record of what passed through it (each request's method, path and
headers; the body bytes each way), and can answer chosen requests itself (``answer``)
or edit the headers of chosen responses (``edit``): what a test needs to see whether
bytes crossed this machine's link, or to make a service refuse one call.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Mapping, Tuple

# answer(method, path, headers) -> (status, body, headers) to send instead of forwarding
Answer = Callable[[str, str, Mapping[str, str]], Tuple[int, bytes, Dict[str, str]] | None]
# edit(method, path, status, headers) -> the response headers to send
Edit = Callable[[str, str, int, List[Tuple[str, str]]], List[Tuple[str, str]]]

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade",
       "content-length"}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # clients hang up on us by design (retries, dropped connections)


class FaultProxy:
    """``FaultProxy(upstream_port, fail=0.25).start()``; ``.port``; ``.stop()``."""

    def __init__(self, upstream_port: int, fail: float = 0.0, drop_share: float = 0.5,
                 corrupt_reads: bool = False, corrupt_writes: bool = False,
                 corrupt_min: int = 1024, seed: int = 7, answer: Answer | None = None,
                 edit: Edit | None = None) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.fail, self.drop_share = fail, drop_share
        self.corrupt_reads, self.corrupt_writes = corrupt_reads, corrupt_writes
        self.corrupt_min = corrupt_min
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Dict[str, int] = {"requests": 0, "503": 0, "dropped": 0, "corrupted": 0}
        self.answer, self.edit = answer, edit
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self.bytes_up = self.bytes_down = 0  # request / response bodies that passed
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                with proxy.lock:
                    proxy.requests.append((self.command, self.path, dict(self.headers)))
                    proxy.bytes_up += len(body)
                own = proxy.answer(self.command, self.path, self.headers) if proxy.answer \
                    else None
                if own is not None:
                    status, msg, extra = own
                    self.send_response(status)
                    for k, v in extra.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                fate = proxy._fate()
                if fate == "503":
                    msg = b"<Error><Code>SlowDown</Code><Message>injected</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(msg)))
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                if fate == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if (proxy.corrupt_writes and self.command in ("PUT", "POST")
                        and len(body) >= proxy.corrupt_min):
                    body = proxy._flip(body)
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                if body or self.command in ("PUT", "POST", "PATCH"):
                    headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if (proxy.corrupt_reads and self.command == "GET" and resp.status in (200, 206)
                        and len(data) >= proxy.corrupt_min):
                    data = proxy._flip(data)
                with proxy.lock:
                    proxy.bytes_down += len(data)
                self.send_response(resp.status, resp.reason)
                headers_out = resp.getheaders()
                if proxy.edit is not None:
                    headers_out = proxy.edit(self.command, self.path, resp.status, headers_out)
                for k, v in headers_out:
                    if k.lower() in HOP:
                        continue
                    if k.lower() == "location":
                        v = v.replace(f"{proxy.upstream[0]}:{proxy.upstream[1]}",
                                      f"127.0.0.1:{proxy.port}")
                    self.send_header(k, v)
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _fate(self) -> str:
        with self.lock:
            self.counts["requests"] += 1
            if self.rng.random() < self.fail:
                fate = "drop" if self.rng.random() < self.drop_share else "503"
                self.counts["dropped" if fate == "drop" else "503"] += 1
                return fate
        return "forward"

    def _flip(self, data: bytes) -> bytes:
        """One byte inverted, past the middle (inside the payload of a multipart body)."""
        with self.lock:
            self.counts["corrupted"] += 1
        i = len(data) * 2 // 3
        return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
