"""Spec loading: defaults, refusals, the sample specs, and the docs naming every field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from invindex.cli import main
from invindex.errors import UsageError
from invindex.provision.spec import SCHEMA, SHAPES, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_the_tutorials_rules_and_secure():
    spec = parse_spec({"name": "a1", "shape": "fleet"})
    sc = spec.scaling
    assert (sc["mode"], sc["scale_out_threshold"], sc["scale_in_threshold"]) == \
        ("simple", 70.0, 40.0)
    assert (sc["adjustment"], sc["cooldown"], sc["period"], sc["evaluation_periods"]) == \
        (1, 180, 60, 2)
    assert spec.network["ingress"] == [] and spec.network["public_ip"] is False
    assert spec.all_tags() == {"invindex-cluster": "a1", "managed-by": "invindex"}
    emr = parse_spec({"name": "e", "shape": "emr", "emr": {"log_uri": "s3://b/l/"}}).scaling
    assert (emr["metric"], emr["scale_out_threshold"], emr["period"]) == \
        ("YARNMemoryAvailablePercentage", 15.0, 300)


@pytest.mark.parametrize("data, message", [
    ({"name": "Bad_Name", "shape": "fleet"}, "cluster name"),
    ({"name": "a", "shape": "mainframe"}, "shape must be one of"),
    ({"name": "a", "shape": "fleet", "scaling": {"cooldwon": 1}}, "unknown field scaling.cooldwon"),
    ({"name": "a", "shape": "fleet", "emr": {"log_uri": "s3://x/"}}, "does not apply to shape"),
    ({"name": "a", "shape": "fleet", "network": {"ingress": [
        {"port": 22, "cidr": "0.0.0.0/0"}]}}, "whole internet"),
    ({"name": "a", "shape": "fleet", "scaling": {"min": 3, "desired": 1}}, "min <= desired"),
    ({"name": "a", "shape": "fleet", "scaling": {"mode": "managed"}}, "not available"),
    ({"name": "a", "shape": "emr"}, "emr.log_uri is required"),
    ({"name": "a", "shape": "azure-vm"}, "ssh_public_key is required"),
    ({"name": "a", "shape": "fleet", "tags": {"managed-by": "me"}}, "set by invindex"),
    ({"name": "a", "shape": "fleet", "machine": {"disk_gb": "big"}}, "must be a int"),
])
def test_mistakes_are_refused_with_the_field_named(data, message):
    with pytest.raises(UsageError, match=message):
        parse_spec(data)


def test_a_world_open_rule_is_accepted_only_when_marked_public():
    spec = parse_spec({"name": "a", "shape": "instance", "network": {"ingress": [
        {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0", "public": True}]}})
    assert spec.ingress[0].cidr == "0.0.0.0/0"


def test_every_sample_spec_loads_and_covers_every_shape():
    shapes = {load_spec(p).shape for p in (ROOT / "sample_data" / "clusters").glob("*.toml")}
    assert shapes == set(SHAPES)


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nshape = "fleet"\n[scaling]\nmax = 0\n')
    assert main(["cluster", "plan", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.toml: scaling" in err


def test_readme_clusters_section_names_every_field(capsys):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Clusters", 1)[1].split("\n## ", 1)[0]
    assert main(["cluster", "fields"]) == 0
    listed = capsys.readouterr().out
    for table, fields in SCHEMA.items():
        for key in fields:
            assert re.search(rf"\b{key}\b", listed)
            assert re.search(rf"\b{key}\b", section), f"README Clusters lacks {table}.{key}"


def test_a_missing_sdk_names_the_extra(monkeypatch, tmp_path, capsys):
    """Without boto3 (as without the provision extra) `plan` fails in one line saying what
    to install; the simulator needs no SDK at all."""
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)
    spec = tmp_path / "f.toml"
    spec.write_text('name = "f"\nshape = "fleet"\n')
    assert main(["cluster", "plan", str(spec)]) == 1
    assert "pip install 'invindex[provision]'" in capsys.readouterr().err
    assert main(["cluster", "simulate", str(spec), "--workload", "job:1GB@10MB/s"]) == 0
