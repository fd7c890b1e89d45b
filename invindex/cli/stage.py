"""``invindex stage cp|ls|rm|sync|mb``: move data between local disk, S3, GCS and Azure.

Credentials come from each SDK's default chain; the only flags are names
(``--profile``, ``--project``, ``--account``), nothing that is a secret.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import List

from ..progress import progress
from ..storage import get_store, parse_uri
from ..storage.errors import ObjectNotFound, StorageError
from ..storage.localpath import Refused, printable
from ..storage.transfer import (
    Summary,
    _rel_key,
    apply_sync,
    check_deletes,
    check_sync,
    plan_copy,
    plan_remove,
    plan_sync,
    remove,
    run_items,
    transfer_bytes,
)

EXAMPLES = """examples:
  invindex stage mb s3://my-bucket
  invindex stage cp -r corpus/ s3://my-bucket/corpus/
  invindex stage sync gs://bucket/index/ az://container/index/
  invindex stage ls wasbs://container@account.blob.core.windows.net/corpus/
  invindex stage rm -r gs://bucket/old-index/
"""


def register(sub) -> None:
    p = sub.add_parser(
        "stage", help="copy, list, sync and remove files on local disk, S3, GCS, Azure Blob",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Move data between local paths (or file://), s3://BUCKET/KEY, "
                    "gs://BUCKET/KEY and az://CONTAINER/BLOB (also wasbs:// and abfss:// "
                    "with the account in the host). Credentials come from each SDK's "
                    "default chain; endpoints from AWS_ENDPOINT_URL, STORAGE_EMULATOR_HOST, "
                    "AZURE_STORAGE_CONNECTION_STRING.", epilog=EXAMPLES)
    # the CLI's parser class: it lists these inherited options for the config path
    common = type(p)(add_help=False)
    common.add_argument("--profile", metavar="NAME", help="AWS profile (default: the SDK chain)")
    common.add_argument("--project", metavar="ID", help="Google Cloud project (for mb)")
    common.add_argument("--account", metavar="NAME",
                        help="Azure storage account for az:// (default: AZURE_STORAGE_ACCOUNT)")
    common.add_argument("-j", "--jobs", type=int, default=8, metavar="N",
                        help="files transferred in parallel (default 8)")
    ss = p.add_subparsers(dest="stage_command", metavar="ACTION", parser_class=type(p))
    ss.required = True

    cp = ss.add_parser("cp", parents=[common], help="copy a file, or a directory with -r")
    cp.add_argument("src", metavar="SRC")
    cp.add_argument("dst", metavar="DST")
    cp.add_argument("-r", "--recursive", action="store_true",
                    help="copy everything under SRC/ to DST/")
    cp.set_defaults(func=run_cp)

    ls = ss.add_parser("ls", parents=[common], help="list objects")
    ls.add_argument("uri", metavar="URI")
    ls.add_argument("-r", "--recursive", action="store_true", help="list all levels")
    ls.set_defaults(func=run_ls)

    rm = ss.add_parser("rm", parents=[common], help="remove an object, or a prefix with -r")
    rm.add_argument("uri", metavar="URI")
    rm.add_argument("-r", "--recursive", action="store_true",
                    help="remove everything under URI/")
    _safety_options(rm)
    rm.set_defaults(func=run_rm)

    sy = ss.add_parser("sync", parents=[common],
                       help="copy what differs (size or checksum) from SRC/ to DST/")
    sy.add_argument("src", metavar="SRC")
    sy.add_argument("dst", metavar="DST")
    sy.add_argument("--delete", action="store_true",
                    help="also delete objects under DST/ that are not under SRC/ (refused "
                         "when SRC is missing, empty or a single file)")
    _safety_options(sy)
    sy.set_defaults(func=run_sync)

    mb = ss.add_parser("mb", parents=[common],
                       help="create a private, encrypted bucket or container")
    mb.add_argument("uri", metavar="URI")
    mb.set_defaults(func=run_mb)


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a count (0 or more), got {text!r}")
    return n


def _safety_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--dry-run", action="store_true",
                   help="print what would be copied and deleted; change nothing")
    p.add_argument("--max-delete", type=_count, metavar="N",
                   help="refuse (before changing anything) to delete more than N objects")


def _options(args: argparse.Namespace) -> dict:
    return {"profile": args.profile, "project": args.project, "account": args.account}


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def _finish(args: argparse.Namespace, refused: List[Refused], line: str) -> int:
    """The summary line; each refused key on its own line (even with -q), exit 1 if any."""
    for r in refused:
        print(f"invindex: warning: refused {printable(r.key)}: {r.reason}", file=sys.stderr)
    _say(args, f"{line} {args.src} -> {args.dst}")
    if refused:
        print(f"invindex: error: {len(refused):,} key(s) refused (see above); "
              "nothing was written for them", file=sys.stderr)
        return 1
    return 0


def run_cp(args: argparse.Namespace) -> int:
    plan = plan_copy(args.src, args.dst, args.recursive, **_options(args))
    with progress(transfer_bytes(plan.items), "copying") as bar:
        summary = run_items(plan.items, bar, args.jobs, Summary(refused=plan.refused))
    return _finish(args, summary.refused, summary.text("Copied"))


def run_sync(args: argparse.Namespace) -> int:
    plan = plan_sync(args.src, args.dst, **_options(args))
    check_sync(plan, args.src, args.dst, args.delete, args.max_delete)
    if args.dry_run:
        for it in plan.items:
            print(f"would copy {it.src.uri(it.src_info.key)} -> {it.dst.uri(it.dst_key)}")
        extra = plan.deletable if args.delete else []
        for store, key in extra:
            print(f"would delete {store.uri(key)}")
        mb = sum(it.src_info.size for it in plan.items) / 1e6
        return _finish(args, plan.refused,
                       f"Dry run: would copy {len(plan.items):,} file(s) ({mb:,.1f} MB), skip "
                       f"{plan.same:,} unchanged, delete {len(extra):,}; nothing changed:")
    with progress(transfer_bytes(plan.items), "syncing") as bar:
        summary = apply_sync(plan, args.delete, bar, args.jobs)
    return _finish(args, summary.refused, summary.text("Synced"))


def run_rm(args: argparse.Namespace) -> int:
    if args.dry_run:
        store, keys = plan_remove(args.uri, args.recursive, **_options(args))
        check_deletes(args.uri, len(keys), args.max_delete)
        for key in keys:
            print(f"would remove {store.uri(key)}")
        _say(args, f"Dry run: would remove {len(keys):,} object(s) at {args.uri}; "
                   "nothing changed.")
        return 0
    n = remove(args.uri, args.recursive, max_delete=args.max_delete, **_options(args))
    _say(args, f"Removed {n:,} object(s) at {args.uri}.")
    return 0


def run_mb(args: argparse.Namespace) -> int:
    u = parse_uri(args.uri)
    if u.key and not u.is_local:
        raise StorageError(f"mb takes a bucket or container, not an object: {args.uri}")
    get_store(u, **_options(args)).make_bucket()
    _say(args, f"Created {args.uri}.")
    return 0


def _when(ts: float | None) -> str:
    if ts is None:
        return " " * 19
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def run_ls(args: argparse.Namespace) -> int:
    u = parse_uri(args.uri)
    store = get_store(u, **_options(args))
    if u.key and not u.dir_like:
        try:
            info = store.info(u.key)
            print(f"{info.size:>14,}  {_when(info.mtime)}  {store.uri(info.key)}")
            return 0
        except ObjectNotFound:
            pass
    count = 0
    for info in store.list(_rel_key(u), recursive=args.recursive):
        count += 1
        if info.is_dir:
            print(f"{'DIR':>14}  {_when(None)}  {store.uri(info.key)}")
        else:
            print(f"{info.size:>14,}  {_when(info.mtime)}  {store.uri(info.key)}")
    if count == 0 and u.key:
        raise ObjectNotFound(f"{args.uri}: no such object or prefix")
    return 0
