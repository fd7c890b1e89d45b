"""``invindex`` command line: one parser, a module per subcommand.

Errors the user can act on (``InvindexError``) print one line and exit non-zero (2 for
usage); anything else is a bug and prints its traceback only with ``--verbose``.
SIGINT, SIGTERM and SIGHUP print ``invindex: interrupted`` and exit 128+N, after
stopping child processes and removing temporaries (``invindex.interrupt``).

Start time: building the parser imports every command's module, so a command module
imports at its top only what its ``register`` needs; what runs the command (the build
pipeline, the index readers, the stores, the search) its ``run`` imports on use.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any, Dict, List, Mapping

from .. import __version__, logconfig, progress
from ..config import apply_defaults, check_section, find_config, load_config
from ..errors import InvindexError
from ..interrupt import handled

log = logging.getLogger("invindex")

# Subcommand modules, each with register(subparsers) -> parser whose defaults set func.
COMMANDS = ["build", "lookup", "verify", "info", "search", "stats", "serve", "publish", "prepare",
            "stage", "cluster", "hadoop_command"]


class _Parser(argparse.ArgumentParser):
    """argparse's parser that remembers what is added to it: its options (those of its
    argument groups too) and its subcommands. argparse has no public way to list
    either; config defaults (``invindex.config.apply_defaults``) and ``-v``/``-q`` after
    a subcommand need both, and this keeps them off argparse's private attributes.
    Options inherited through ``parents=`` are listed too: a parent must be a
    ``_Parser`` (argparse shares the parent's action objects with the child)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.options: List[argparse.Action] = []
        self.subcommands: argparse.Action | None = None  # what add_subparsers returned
        self._ready = False  # argparse makes its own groups in __init__: left unwrapped
        super().__init__(*args, **kwargs)
        self._ready = True
        for parent in kwargs.get("parents", ()):
            if not isinstance(parent, _Parser):
                raise TypeError("a parent parser must be a _Parser (make it with the "
                                "class given to add_subparsers), so that its options "
                                "can be set from the config file and the environment")
            self.options.extend(parent.options)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        return self.remember(super().add_argument(*args, **kwargs))

    def add_argument_group(self, *args: Any, **kwargs: Any) -> Any:
        group = super().add_argument_group(*args, **kwargs)
        return _Group(self, group) if self._ready else group

    def add_mutually_exclusive_group(self, *args: Any, **kwargs: Any) -> Any:
        return _Group(self, super().add_mutually_exclusive_group(*args, **kwargs))

    def add_subparsers(self, **kwargs: Any) -> Any:
        self.subcommands = super().add_subparsers(**kwargs)
        return self.subcommands

    def commands(self) -> Dict[str, _Parser]:
        """Each subcommand's parser by name (aliases included)."""
        return dict(self.subcommands.choices) if self.subcommands is not None else {}

    def chosen(self, args: argparse.Namespace) -> _Parser:
        """The (nested) subcommand's parser that ``args`` name, else this one."""
        name = getattr(args, self.subcommands.dest, None) if self.subcommands else None
        sub = self.commands().get(name) if name else None
        return sub.chosen(args) if sub is not None else self

    def all_options(self) -> List[argparse.Action]:
        """This parser's options and those of its nested subcommands."""
        out = list(self.options)
        for sub in set(self.commands().values()):
            out.extend(sub.all_options())
        return out

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")

    def remember(self, action: argparse.Action) -> argparse.Action:
        if action.option_strings:
            self.options.append(action)
        return action


class _Group:
    """An argument group (or mutually exclusive group) of a ``_Parser`` whose options
    the parser remembers; everything else is argparse's group."""

    def __init__(self, parser: _Parser, group: Any) -> None:
        self._parser = parser
        self._group = group

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        return self._parser.remember(self._group.add_argument(*args, **kwargs))

    def add_mutually_exclusive_group(self, *args: Any, **kwargs: Any) -> _Group:
        return _Group(self._parser, self._group.add_mutually_exclusive_group(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._group, name)


def make_parser() -> _Parser:
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
    _after_subcommands(parser)
    return parser


def _after_subcommands(parser: _Parser) -> None:
    """-v/-q accepted after a subcommand too (``invindex build ... -q``): each
    subparser, nested ones included, takes them; SUPPRESS keeps the top-level value
    when they are not repeated there."""
    for p in set(parser.commands().values()):
        p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                       help="more logging (-vv for debug); tracebacks on errors")
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="no progress bars, only errors")
        _after_subcommands(p)


def configure(parser: _Parser, pre: argparse.Namespace, config: Dict[str, Any],
              env: Mapping[str, str]) -> None:
    """The command's config table and the environment as defaults of the parser that
    will run (``stage cp``'s for ``invindex stage cp``: the ``[stage]`` table); ``pre``
    are the arguments as first parsed, which name the command and subcommand."""
    command = parser.commands()[pre.command]
    section = config.get(pre.command, {})
    check_section(section, command.all_options(), command.get_default("config_tables") or (),
                  command.prog)
    leaf = command.chosen(pre)
    apply_defaults(leaf, leaf.options, section, env)


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
            configure(parser, pre, load_config(find_config(pre.config, os.environ)),
                      os.environ)
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
