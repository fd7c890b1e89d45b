"""``invindex stage cp|ls|rm|sync|mb``: move data between local disk, S3, GCS and Azure.

Credentials come from each SDK's default chain; the only flags are names
(``--profile``, ``--project``, ``--account``), nothing that is a secret.
"""

from __future__ import annotations

import argparse
from typing import Callable

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
    cp.set_defaults(func=_action("run_cp"))

    ls = ss.add_parser("ls", parents=[common], help="list objects")
    ls.add_argument("uri", metavar="URI")
    ls.add_argument("-r", "--recursive", action="store_true", help="list all levels")
    ls.set_defaults(func=_action("run_ls"))

    rm = ss.add_parser("rm", parents=[common], help="remove an object, or a prefix with -r")
    rm.add_argument("uri", metavar="URI")
    rm.add_argument("-r", "--recursive", action="store_true",
                    help="remove everything under URI/")
    _safety_options(rm)
    rm.set_defaults(func=_action("run_rm"))

    sy = ss.add_parser("sync", parents=[common],
                       help="copy what differs (size or checksum) from SRC/ to DST/")
    sy.add_argument("src", metavar="SRC")
    sy.add_argument("dst", metavar="DST")
    sy.add_argument("--delete", action="store_true",
                    help="also delete objects under DST/ that are not under SRC/ (refused "
                         "when SRC is missing, empty or a single file)")
    _safety_options(sy)
    sy.set_defaults(func=_action("run_sync"))

    mb = ss.add_parser("mb", parents=[common],
                       help="create a private, encrypted bucket or container")
    mb.add_argument("uri", metavar="URI")
    mb.set_defaults(func=_action("run_mb"))


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


def _action(name: str) -> Callable[[argparse.Namespace], int]:
    """The action ``name`` of ``stage_actions``, imported when it runs: the storage
    layer and its transfers would cost every command's start (see invindex.cli)."""
    def run(args: argparse.Namespace) -> int:
        from . import stage_actions  # on use: start time (see invindex.cli)

        return getattr(stage_actions, name)(args)
    return run
