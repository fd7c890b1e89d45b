"""Settings from flags, environment and a config file, in that order of precedence.

Every long option of a command can also come from ``INVINDEX_<OPTION>`` in the
environment (``INVINDEX_RUNNER=pipe``) or from the command's table in a TOML file
(``[build]`` / ``runner = "pipe"``). The file is ``--config PATH``, else
``$INVINDEX_CONFIG``, else ``./invindex.toml``, else ``~/.config/invindex/config.toml``.

This is the one config path: ``invindex.cli.main`` reads the file once, turns the
command's table and the environment into the defaults of the parser that runs (a nested
one, ``stage cp``, takes its command's table: ``[stage]``; a flag given on the command
line wins), validating every value as the flag would be (type, choices) so that a bad
one is one line and exit status 2 whatever its origin. A setting must name an option of
the command or of one of its nested subcommands. Sub-tables (``[build.emr]``) are kept
on the parsed arguments for the command (``build_table``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping

from .errors import UsageError

_TRUE = {"1", "true", "yes", "on"}
# Settings only a flag gives: the CLI's own (help, config, version, verbosity), and the
# answer to a confirmation (`cluster down --yes`), which is given per command, never by
# an environment or a file that would leave every later `down` unasked.
COMMAND_LINE_ONLY = {"help", "config", "version", "verbose", "quiet"}
CONFIRMATIONS = {"yes"}
_FALSE = {"0", "false", "no", "off", ""}


def find_config(explicit: str | None, env: Mapping[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    if env.get("INVINDEX_CONFIG"):
        return Path(env["INVINDEX_CONFIG"])
    for candidate in (Path("invindex.toml"),
                      Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
                      / "invindex" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None) -> Dict[str, Any]:
    if path is None:
        return {}
    import tomllib  # only when there is a file: it costs every CLI start ~5 ms otherwise

    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"config file {path} is not valid TOML: {e}") from None


def _convert(action: argparse.Action, value: Any, origin: str) -> Any:
    """A config/env value as the parser would have produced it from a flag."""
    if action.nargs == 0 and isinstance(action.const, bool):  # store_true / store_false
        if isinstance(value, bool):
            flag_on = value
        elif str(value).lower() in _TRUE | _FALSE:
            flag_on = str(value).lower() in _TRUE
        else:
            raise UsageError(f"{origin}: expected true or false, got {value!r}")
        # the setting is named after the option (``--no-positions`` stores into
        # ``positions``), so its value is the option's value, not "flag given"
        return flag_on
    if action.nargs in ("*", "+") and isinstance(value, str):
        value = value.split(",")
    try:
        if action.type is not None and not isinstance(value, list):
            value = action.type(value)
        elif action.type is not None:
            value = [action.type(v) for v in value]
    except (TypeError, ValueError) as e:
        raise UsageError(f"{origin}: {e}") from None
    if action.choices is not None:
        for v in value if isinstance(value, list) else [value]:
            if v not in action.choices:
                raise UsageError(f"{origin}: invalid choice {v!r} (choose from "
                                 f"{', '.join(map(str, action.choices))})")
    return value


def check_section(section: Mapping[str, Any], options: Iterable[argparse.Action],
                  tables: Iterable[str], where: str) -> None:
    """Refuse a setting that names none of ``options`` (a command's, those of its
    nested subcommands included) and a sub-table that is not one of ``tables``."""
    known = {a.dest for a in options if a.option_strings}
    tables = tuple(tables)
    for key in section:
        if isinstance(section[key], dict):
            if key not in tables:
                raise UsageError(f"config: unknown table [{where.split()[-1]}.{key}]"
                                 + (f" (tables: {', '.join(tables)})" if tables else ""))
        elif key.replace("-", "_") in CONFIRMATIONS:
            raise UsageError(f"config: {key!r} is a confirmation: give --{key} on the "
                             f"command line")
        elif key.replace("-", "_") not in known:
            raise UsageError(f"config: unknown setting {key!r} for `{where}`")


def apply_defaults(parser: argparse.ArgumentParser, options: Iterable[argparse.Action],
                   section: Mapping[str, Any], env: Mapping[str, str]) -> None:
    """Set the parser's defaults from the config section, then the environment, for
    each of ``options`` (the parser's optional actions: argparse lists them only in a
    private attribute, so the CLI's parser remembers them as they are added)."""
    by_dest = {a.dest: a for a in options if a.option_strings}
    defaults: Dict[str, Any] = {"config_section": dict(section)}
    for dest, action in by_dest.items():
        if dest in COMMAND_LINE_ONLY | CONFIRMATIONS:
            continue
        for key in (dest, dest.replace("_", "-")):
            if key in section:
                defaults[dest] = _convert(action, section[key], f"config [{key}]")
        env_key = "INVINDEX_" + dest.upper()
        if env_key in env:
            defaults[dest] = _convert(action, env[env_key], env_key)
    parser.set_defaults(**defaults)


def build_table(args: argparse.Namespace, name: str) -> Dict[str, Any]:
    """The ``[COMMAND.NAME]`` sub-table of the config (``[build.emr]``), from the file
    ``main`` read; read here only when the arguments did not come through ``main``."""
    section = getattr(args, "config_section", None)
    if section is None:
        section = load_config(find_config(getattr(args, "config", None), os.environ)).get(
            "build", {})
    table = section.get(name, {})
    if not isinstance(table, dict):
        raise UsageError(f"config: [build.{name}] must be a table of runner options")
    return table
