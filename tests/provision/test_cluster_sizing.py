"""Sizing from the corpus: `cluster plan SPEC --input` and `simulate --workload job:auto`,
with numbers worked out by hand (the model: size / (nodes x per-node rate))."""

from __future__ import annotations

import textwrap

import pytest

from invindex.cli import main
from invindex.errors import UsageError
from invindex.provision.sizing import STREAMING_MB_PER_VCPU, vcpus

EMR = """
    name = "t-emr"
    shape = "emr"
    [aws]
    region = "us-east-1"
    [emr]
    log_uri = "s3://logs/emr/"
    core_count = 2
    task_type = "m5.xlarge"
    [scaling]
    min = 0
    max = 6
    desired = 0
"""


@pytest.fixture
def corpus(tmp_path):
    """4,000,000 bytes to index: a 3,000,000-byte file and a 250,000-byte .gz counted x4;
    a hidden file and an _underscore file are skipped, as the build skips them."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "a.tsv").write_bytes(b"x" * 3_000_000)
    (d / "b.tsv.gz").write_bytes(b"y" * 250_000)
    (d / ".hidden").write_bytes(b"z" * 999)
    (d / "_SUCCESS").write_bytes(b"")
    spec = tmp_path / "emr.toml"
    spec.write_text(textwrap.dedent(EMR))
    return spec, d


def test_vcpus_from_the_type_name():
    assert (vcpus("m5.xlarge"), vcpus("m5.2xlarge"), vcpus("n2-standard-8"),
            vcpus("t3.micro")) == (4, 8, 8, 2)
    with pytest.raises(UsageError, match="--rate"):
        vcpus("weird-type")


def test_plan_with_inputs_proposes_nodes_parts_time_and_cost(corpus, capsys):
    """At --rate 0.001 MB/s per node (1,000 B/s), 4,000,000 bytes:
    - smallest (0 task + 2 core = 2 nodes): 4e6 / 2e3 = 2000 s = 0:33:20; billed with the
      master 3 x 2000 s = 1.67 h; --parts 2 x 4 vCPUs = 8.
    - within 10 minutes: ceil(4e6 / (1e3 x 600)) = 7 nodes -> 5 task nodes; 4e6 / 7e3 =
      571 s = 0:09:31; 8 x 571.4 s = 1.27 h; --parts 28.
    - largest (6 task, 8 nodes): 500 s = 0:08:20; 9 x 500 s = 1.25 h; --parts 32."""
    spec, d = corpus
    assert main(["cluster", "plan", str(spec), "--input", str(d), "--rate", "0.001",
                 "--within", "10"]) == 0
    out = capsys.readouterr().out
    assert "2 input file(s), 4.0 MB to index (1 compressed, counted x4)" in out
    assert "     0      2        8   0:33:20        1.67" in out
    assert "     5      7       28   0:09:31        1.27  <- proposed" in out
    assert "     6      8       32   0:08:20        1.25" in out
    assert "proposed: scaling.desired = 5, --parts 28" in out


def test_plan_uses_the_measured_streaming_rate_by_default(corpus, capsys):
    spec, d = corpus
    assert main(["cluster", "plan", str(spec), "--input", str(d / "a.tsv")]) == 0
    rate = 4 * STREAMING_MB_PER_VCPU
    assert f"throughput: {rate:.2f} MB/s per m5.xlarge node" in capsys.readouterr().out


def test_simulate_job_auto_is_the_inputs_at_the_same_rate(corpus, capsys):
    """`job:auto` with --input is the same workload as writing its size and rate by hand:
    4,000,000 bytes at 1 kB/s per node = job:4MB@1kB/s."""
    spec, d = corpus
    assert main(["cluster", "simulate", str(spec), "--workload", "job:auto", "--input",
                 str(d), "--rate", "0.001"]) == 0
    auto = capsys.readouterr().out
    assert main(["cluster", "simulate", str(spec), "--workload", "job:4MB@1kB/s"]) == 0
    assert auto == capsys.readouterr().out
    assert "finished at" in auto


def test_job_auto_needs_inputs(corpus):
    spec, _ = corpus
    assert main(["cluster", "simulate", str(spec), "--workload", "job:auto"]) == 2
