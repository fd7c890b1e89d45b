"""Every option of every (nested) subcommand comes from the flag, ``INVINDEX_<OPTION>`` or
the command's table in the config file, through the one config path.

Found by trying it: the options ``stage cp|ls|rm|sync|mb`` inherit through argparse's
``parents=`` (``--profile``, ``--project``, ``--account``, ``--jobs``) and the options
of nested subcommands (``cluster plan --within``) were not settable from the
environment or the file, unlike every other option: ``[stage] jobs = 2`` was an
"unknown setting" and ``INVINDEX_JOBS`` was ignored.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import invindex.cli.stage_actions as stage
from invindex.cli import make_parser

SKIP = {"help", "version", "verbose", "quiet", "config", "yes"}


@pytest.fixture
def seen(monkeypatch) -> List[argparse.Namespace]:
    """The arguments `stage cp` / `stage sync` were run with (nothing is copied)."""
    calls: List[argparse.Namespace] = []
    for name in ("run_cp", "run_sync"):
        monkeypatch.setattr(stage, name, lambda args: calls.append(args) or 0)
    return calls


def test_stage_options_from_the_environment(cli, seen, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INVINDEX_CONFIG", raising=False)
    monkeypatch.setenv("INVINDEX_JOBS", "3")
    monkeypatch.setenv("INVINDEX_PROFILE", "staging")
    assert cli("stage", "cp", "a", "b").code == 0
    assert (seen[-1].jobs, seen[-1].profile) == (3, "staging")
    assert cli("stage", "cp", "a", "b", "-j", "5").code == 0  # the flag wins
    assert seen[-1].jobs == 5
    monkeypatch.setenv("INVINDEX_JOBS", "many")
    r = cli("stage", "cp", "a", "b")
    assert r.code == 2 and "INVINDEX_JOBS" in r.err and len(r.err.splitlines()) == 1


def test_stage_options_from_the_config_file(cli, seen, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INVINDEX_CONFIG", raising=False)
    Path("invindex.toml").write_text(
        '[stage]\njobs = 2\naccount = "acct"\ndelete = true\nmax_delete = 7\n')
    assert cli("stage", "cp", "a", "b").code == 0  # delete: sync's, not an error for cp
    assert (seen[-1].jobs, seen[-1].account) == (2, "acct")
    assert cli("stage", "sync", "a", "b").code == 0
    assert (seen[-1].jobs, seen[-1].delete, seen[-1].max_delete) == (2, True, 7)
    Path("invindex.toml").write_text("[stage]\njbos = 2\n")
    r = cli("stage", "cp", "a", "b")
    assert r.code == 2 and "unknown setting 'jbos'" in r.err


def _leaves(parser, path: Tuple[str, ...] = ()) -> Iterator[Tuple[Tuple[str, ...], Any]]:
    commands = parser.commands()
    if not commands:
        yield path, parser
    for name, sub in commands.items():
        yield from _leaves(sub, (*path, name))


def _value(action: argparse.Action) -> Tuple[str, Any]:
    """A valid setting for ``action`` and what the parser should make of it."""
    if action.nargs == 0:
        return "true", True
    if action.choices is not None:
        choice = sorted(action.choices, key=str)[0]
        return str(choice), choice
    if action.type in (int, float):
        return "3", action.type(3)
    if action.type is None or action.type is str:
        return ("a,b", ["a", "b"]) if action.nargs in ("*", "+") else ("x", "x")
    return None, None  # a custom type: its own tests


def test_every_option_of_every_subcommand_is_settable_from_the_environment():
    """Each leaf command's options, inherited ones included, from INVINDEX_<OPTION>."""
    from invindex.cli import configure  # what main does with the file and environment

    parser = make_parser()
    checked = 0
    for path, leaf in _leaves(parser):
        for action in leaf.options:
            if action.dest in SKIP or action.dest is argparse.SUPPRESS:
                continue
            text, want = _value(action)
            if text is None:
                continue
            env: Dict[str, str] = {f"INVINDEX_{action.dest.upper()}": text}
            fresh = make_parser()
            pre = argparse.Namespace(command=path[0])
            node = fresh.commands()[path[0]]
            for name in path[1:]:
                setattr(pre, node.subcommands.dest, name)
                node = node.commands()[name]
            configure(fresh, pre, {}, env)
            assert node.get_default(action.dest) == want, (path, action.dest)
            checked += 1
    assert checked > 40
    stage_cp = make_parser().commands()["stage"].commands()["cp"]
    assert {"profile", "project", "account", "jobs"} <= {a.dest for a in stage_cp.options}


def test_a_confirmation_comes_only_from_the_command_line(cli, monkeypatch, tmp_path):
    """`cluster down --yes` skips the question before deleting a cluster: that answer is
    given per command, never by an environment variable or a config file that would make
    every later `down` unasked (decided when nested options became settable)."""
    import invindex.cli.cluster as cluster

    calls: List[argparse.Namespace] = []
    monkeypatch.setattr(cluster, "run_down", lambda args: calls.append(args) or 0)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INVINDEX_CONFIG", raising=False)
    monkeypatch.setenv("INVINDEX_YES", "1")
    assert cli("cluster", "down", "c1").code == 0
    assert calls[-1].yes is False
    assert cli("cluster", "down", "c1", "--yes").code == 0
    assert calls[-1].yes is True
    Path("invindex.toml").write_text("[cluster]\nyes = true\n")
    r = cli("cluster", "down", "c1")
    assert r.code == 2 and "--yes" in r.err and len(r.err.splitlines()) == 1
