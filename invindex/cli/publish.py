"""``invindex publish INDEX DEST``: load an index into a serving store."""

from __future__ import annotations

import argparse
import sys

from ..errors import UsageError
from ..stores import open_reader, open_store


def register(sub) -> None:
    p = sub.add_parser(
        "publish", help="load an index into a serving store (SQLite, PostgreSQL, DynamoDB)",
        description="Copy an index (a directory, a cloud URI, or another store) into a "
                    "serving store, where `search`, `lookup` and `stats` read it by URI. "
                    "The new version is loaded beside the serving one and switched to in "
                    "one step: readers never see a partial index, and a failed or "
                    "interrupted publish leaves the previous version serving.",
        epilog="DEST: sqlite:///path/to/file.db | "
               "postgresql://USER@HOST:PORT/DB?sslmode=verify-full (password from "
               "PGPASSWORD or ~/.pgpass, never in the URI; --iam for an RDS IAM token) | "
               "dynamodb://TABLE[?region=R] (created on demand if missing; endpoint from "
               "AWS_ENDPOINT_URL). Readers name the index with ?name=NAME.")
    p.add_argument("index", metavar="INDEX")
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--name", default=None,
                   help="the index's name in the store (default: ?name= in DEST, else "
                        "'default'); several indexes can share one database")
    p.add_argument("--replace", action="store_true",
                   help="replace an index already published under that name")
    p.add_argument("--iam", action="store_true",
                   help="postgresql: authenticate with an RDS IAM auth token "
                        "(boto3's default credentials; same as ?iam=1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..search.source import check_searchable  # on use: start time (see invindex.cli)

    try:  # numpy converts the postings: the other commands work without it
        from ..stores.base import publish_index
    except ModuleNotFoundError as e:
        raise UsageError(f"publish needs {e.name}: pip install 'invindex[search]'") from None
    source = open_reader(args.index)  # checked before the store is touched
    check_searchable(source.manifest, source.location)
    store = open_store(args.dest, args.name, iam="1" if args.iam else "")
    try:
        report = publish_index(store, source, args.replace)
    finally:
        store.close()
    if not args.quiet:
        print(f"invindex: {report.text()}", file=sys.stderr)
    return 0
