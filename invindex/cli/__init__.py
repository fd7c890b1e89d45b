"""``invindex`` command line: one parser, a module per subcommand.

Errors the user can act on (``InvindexError``) print one line and exit non-zero (2 for
usage); anything else is a bug and prints its traceback only with ``--verbose``.
SIGINT, SIGTERM and SIGHUP print ``invindex: interrupted`` and exit 128+N, after
stopping child processes and removing temporaries (``invindex.interrupt``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import List

from .. import __version__, logconfig, progress
from ..config import apply_defaults, find_config, load_config
from ..errors import InvindexError
from ..interrupt import handled

log = logging.getLogger("invindex")

# Subcommand modules, each with register(subparsers) -> parser whose defaults set func.
COMMANDS = ["build", "lookup", "verify", "info", "search", "stats", "serve", "publish", "prepare",
            "stage", "cluster", "hadoop_command"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="invindex",
        description="Build inverted indexes from doc_id<TAB>text corpora with one "
                    "Hadoop-streaming job, on a laptop or a cluster, and use them.",
        epilog="Each option can also be set as INVINDEX_<OPTION> in the environment or in "
               "the [command] table of invindex.toml. `invindex COMMAND --help` for more.",
    )
    parser.add_argument("--version", action="version", version=f"invindex {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging (-vv for debug); tracebacks on errors")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars, only errors")
    parser.add_argument("--sdk-logs", action="store_true",
                        help="with -v/-vv also the cloud SDKs' HTTP logs, secrets redacted "
                             "(or INVINDEX_SDK_LOGS=1)")
    parser.add_argument("--config", metavar="PATH",
                        help="TOML config file (default: ./invindex.toml, then "
                             "~/.config/invindex/config.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(__name__):
                continue  # a subcommand not built yet
            raise
        module.register(sub)
    _after_subcommands(sub)
    return parser


def _after_subcommands(sub: argparse._SubParsersAction) -> None:
    """-v/-q accepted after a subcommand too (``invindex build ... -q``): each
    subparser, nested ones included, takes them; SUPPRESS keeps the top-level value
    when they are not repeated there."""
    for p in set(sub.choices.values()):
        p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                       help="more logging (-vv for debug); tracebacks on errors")
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no progress bars, only errors")
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                _after_subcommands(action)


def _setup_logging(verbose: int, quiet: bool, sdk_logs: bool = False) -> None:
    logconfig.configure(verbose, quiet, sdk_logs)
    if quiet:
        progress.set_enabled(False)


def main(argv: List[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verbose = any(a in ("-v", "--verbose") or a.startswith("-vv") for a in argv)
    try:
        parser = make_parser()
        pre, _ = parser.parse_known_args(argv) if argv and argv[0] not in (
            "-h", "--help", "--version") else (None, None)
        if pre is not None:
            config = load_config(find_config(pre.config, os.environ))
            sub_parser = parser._subparsers._group_actions[0].choices[pre.command]  # type: ignore
            apply_defaults(sub_parser, config.get(pre.command, {}), os.environ)
        args = parser.parse_args(argv)
        _setup_logging(args.verbose, args.quiet, args.sdk_logs)
        with handled():  # SIGTERM and SIGHUP stop a command as Ctrl-C does
            return int(args.func(args) or 0)
    except InvindexError as e:
        print(f"invindex: error: {logconfig.redact(str(e))}", file=sys.stderr)
        if verbose:
            import traceback

            traceback.print_exc()
        return e.exit_code
    except KeyboardInterrupt as e:  # Ctrl-C, or invindex.interrupt.Interrupted
        print("invindex: interrupted", file=sys.stderr)
        return getattr(e, "exit_code", 130)
    except BrokenPipeError:
        return 1
    except Exception as e:  # a bug: one line, details under --verbose
        if verbose:
            raise
        print(f"invindex: error: {type(e).__name__}: {logconfig.redact(str(e))} "
              "(run with --verbose for details)", file=sys.stderr)
        return 1
