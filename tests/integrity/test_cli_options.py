"""Command-line details a new user met: -q/-v after the subcommand too."""

from __future__ import annotations

import pytest

from invindex import cli as cli_module

from ..conftest import SAMPLE


@pytest.fixture
def seen(monkeypatch):
    """The (verbose, quiet) the command line set up logging with."""
    calls = []
    real = cli_module._setup_logging

    def spy(verbose, quiet, *rest):
        calls.append((verbose, quiet))
        real(verbose, quiet, *rest)

    monkeypatch.setattr(cli_module, "_setup_logging", spy)
    return calls


def test_quiet_after_the_subcommand(cli, tmp_path, seen):
    r = cli("build", str(SAMPLE), "--output", str(tmp_path / "i"), "-q")
    assert r.code == 0, r.err
    assert r.err == ""  # -q: no summary
    assert seen[-1] == (0, True)


@pytest.mark.parametrize("args, verbose", [(["-v"], 1), (["--verbose", "--verbose"], 2),
                                           (["-vv"], 2)])
def test_verbose_after_the_subcommand(cli, tmp_path, seen, args, verbose):
    r = cli("lookup", str(tmp_path / "nothing"), "light", *args)
    assert r.code == 1 and "usage" not in r.err
    assert seen[-1] == (verbose, False)


def test_before_the_subcommand_still_works(cli, tmp_path, seen):
    cli("-q", "lookup", str(tmp_path / "nothing"), "light")
    assert seen[-1] == (0, True)


def test_a_nested_subcommand_takes_them_too(cli):
    r = cli("cluster", "plan", "--help")
    assert "--quiet" in r.out and "--verbose" in r.out
