"""What ``invindex stage cp|ls|rm|sync|mb`` do (the parser is ``invindex.cli.stage``'s).

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
