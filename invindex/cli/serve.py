"""``invindex serve SOURCE``: the search site (Django, served by waitress) over an index."""

from __future__ import annotations

import argparse
import logging
import os

from ..errors import UsageError
from ..stores import open_source

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser(
        "serve", help="the search site: pages and a JSON API over an index",
        description="Serve a search site over SOURCE (an index directory, a cloud index "
                    "URI or a store URI such as sqlite:///path/db, read in place and never "
                    "written) with waitress, a production "
                    "WSGI server. Pages: search, term, document, index, help; API: "
                    "/api/search, /api/terms/TERM, /healthz.",
        epilog="Binds to loopback unless --host says otherwise; requests are accepted "
               "only for the bind address and each --allowed-host. The secret key is "
               "fresh per process unless INVINDEX_SECRET_KEY is set.")
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 exposes the site)")
    p.add_argument("--port", type=int, default=8000,
                   help="port (default 8000; 0 takes a free one, printed at start)")
    p.add_argument("--workers", type=int, default=4, metavar="N",
                   help="request threads (default 4)")
    p.add_argument("--allowed-host", action="append", default=[], metavar="H",
                   help="another Host header to accept (a domain name in front of a proxy); "
                        "repeatable")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if not 1 <= args.workers <= 256:
        raise UsageError("--workers must be between 1 and 256")
    try:  # the web extra is optional: the rest of the CLI works without Django
        from ..web import server, settings, site
    except ModuleNotFoundError as e:
        raise UsageError(f"invindex serve needs the web extra ({e.name} is missing): "
                         "pip install 'invindex[web]'") from None
    source = open_source(args.source)  # an index directory, cloud URI or store URI
    name = os.path.basename(args.source.rstrip("/")) or args.source
    hosts = settings.allowed_hosts(args.host, args.allowed_host)
    if not hosts:
        raise UsageError(f"--host {args.host} listens on every address: name the host "
                         "names to accept with --allowed-host")
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("serving on %s: reachable beyond this machine", args.host)
    app = server.application(site.SearchSite(source, name), hosts)
    server.serve(app, args.host, args.port, args.workers)
    return 0
