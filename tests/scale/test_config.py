"""Cluster settings out of the command line: the sample invindex.toml and mrjob.conf use
only option names the runners know, and precedence is table < flag < -O."""

from __future__ import annotations

import tomllib

import pytest

from tests.conftest import REPO

pytest.importorskip("mrjob")


def test_sample_invindex_toml_names_known_options():
    from invindex.runners import dataproc
    from invindex.runners.cluster import check_options

    build = tomllib.loads((REPO / "sample_data/invindex.toml").read_text())["build"]
    for runner in ("spark", "emr", "hadoop"):
        check_options(runner, build[runner])
    assert set(build["dataproc"]) <= dataproc.OPT_NAMES


def test_sample_mrjob_conf_names_known_options():
    from mrjob.conf import load_opts_from_mrjob_conf

    from invindex.runners.cluster import check_options

    for runner in ("spark", "emr", "hadoop"):
        [(_, opts)] = load_opts_from_mrjob_conf(runner, str(REPO / "sample_data/mrjob.conf"))
        assert opts
        check_options(runner, opts)


def test_precedence_table_flag_option(tmp_path, monkeypatch):
    from invindex.cli import make_parser
    from invindex.cli.build import runner_options

    cfg = tmp_path / "invindex.toml"
    cfg.write_text('[build]\nrunner = "emr"\n[build.emr]\nregion = "eu-west-1"\n'
                   'num_core_instances = 2\ninstance_type = "m5.large"\n')
    monkeypatch.setenv("INVINDEX_CONFIG", str(cfg))
    args = make_parser().parse_args(["build", "x", "-o", "y", "-r", "emr", "--num-workers",
                                     "5", "-O", "instance_type=c5.xlarge", "-O",
                                     'tags={"team": "ir"}'])
    assert runner_options(args) == {"region": "eu-west-1", "num_core_instances": 5,
                                    "instance_type": "c5.xlarge", "tags": {"team": "ir"}}
