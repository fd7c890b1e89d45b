"""The WSGI application for one ``SearchSite``, served by waitress (never runserver).

waitress is a production WSGI server in pure Python: ``threads`` request threads, one
process. Its limits are tightened for a read-only site (small headers, no bodies).
``port=0`` takes a free port; the URL actually served is printed first, on stdout.
"""

from __future__ import annotations

import logging
import sys
from typing import Callable, List, TextIO

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from waitress.server import create_server

from ..errors import InvindexError
from . import settings
from .site import SearchSite, install

SERVER_LIMITS = dict(
    max_request_header_size=16 * 1024,
    max_request_body_size=64 * 1024,
    connection_limit=256,
    channel_timeout=30,
    expose_tracebacks=False,
    clear_untrusted_proxy_headers=True,
    ident="invindex",
)


class _ClientError(logging.Filter):
    """A refused Host header is the client's mistake (scanners send them all day): one
    warning line in the server's log, not an error with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_logs() -> None:
    # waitress warns at every request queued behind busy threads: normal under load
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    disallowed = logging.getLogger("django.security.DisallowedHost")
    if not any(isinstance(f, _ClientError) for f in disallowed.filters):
        disallowed.addFilter(_ClientError())


def application(site: SearchSite, hosts: List[str],
                secret_key: str | None = None) -> WSGIHandler:
    settings.setup(hosts, secret_key)
    install(site)
    return get_wsgi_application()


def url_of(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(app: Callable, host: str, port: int, threads: int,
          out: TextIO = sys.stdout) -> None:
    """Serve until interrupted (Ctrl-C or SIGINT ends it quietly)."""
    quiet_logs()
    try:
        server = create_server(app, host=host, port=port, threads=threads, **SERVER_LIMITS)
    except OSError as e:  # port taken, address not on this machine, name not found
        raise InvindexError(f"cannot listen on {url_of(host, port)}: "
                            f"{e.strerror or e}") from None
    print(f"invindex: serving on {url_of(host, server.effective_port)}", file=out, flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
