"""``invindex hadoop-command`` and the files it ships.

No Hadoop distribution can be installed here, so the command's content is asserted,
and its exact arguments are run by ``_hadoop_emulator`` (shipped files copied into an
otherwise empty task directory, ``python3`` bound to ``python3 -S``, Python 3.9 when the
machine has it): the index lines must equal the reference."""

from __future__ import annotations

import shlex
import sys
import zipfile

import pytest
from _hadoop_emulator import local_io, run

from invindex.core import indexfmt
from tests.conftest import read_index_lines
from tests.reference import reference_lines


def _argv(out: str):
    return shlex.split(out.replace("\\\n", " "))


def test_command_content(cli, tmp_path):
    files = tmp_path / "ship"
    r = cli("hadoop-command", "hdfs:///corpus/", "s3://b/more.tsv.gz", "-o", "hdfs:///idx",
            "--parts", "3", "--stem", "--stopwords", "english", "--files-dir", str(files),
            "--jar", "/opt/hadoop/hadoop-streaming.jar")
    assert r.code == 0, r.err
    argv = _argv(r.out)
    assert argv[:3] == ["hadoop", "jar", "/opt/hadoop/hadoop-streaming.jar"]
    pairs = list(zip(argv[3::2], argv[4::2], strict=True))
    d = [v for k, v in pairs if k == "-D"]
    assert "stream.num.map.output.key.fields=2" in d
    assert "mapreduce.partition.keypartitioner.options=-k1,1" in d
    assert "mapreduce.fileoutputcommitter.marksuccessfuljobs=false" in d
    assert "mapreduce.job.reduces=3" in d
    opts = dict((k, v) for k, v in pairs if k != "-D" and k != "-input")
    assert opts["-partitioner"] == "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner"
    assert opts["-files"] == ",".join(str(files.resolve() / n) for n in
                                      ("mapper.py", "reducer.py", "invindex.zip"))
    assert [v for k, v in pairs if k == "-input"] == ["hdfs:///corpus/", "s3://b/more.tsv.gz"]
    assert opts["-output"] == "hdfs:///idx"
    assert opts["-mapper"] == "python3 mapper.py --stopwords english --stem"
    assert opts["-reducer"] == "python3 reducer.py"
    # generic options (-D, -files) come before the streaming ones
    assert max(i for i, a in enumerate(argv) if a in ("-D", "-files")) < argv.index("-input")
    with zipfile.ZipFile(files / "invindex.zip") as z:
        names = z.namelist()
    assert names[0] == "invindex/__init__.py"
    # the core, and the pure-Python stemmer it imports, with its licence
    assert all(n.startswith(("invindex/core/", "snowballstemmer/")) for n in names[1:])
    assert "invindex/core/streaming.py" in names and "invindex/core/stemmer.py" in names
    assert "snowballstemmer/english_stemmer.py" in names and "snowballstemmer/COPYING" in names


def test_default_jar_left_to_the_shell(cli, tmp_path):
    r = cli("hadoop-command", "in/", "-o", "out", "--files-dir", str(tmp_path))
    assert r.out.startswith("hadoop jar $HADOOP_HOME/share/hadoop/tools/lib/"
                            "hadoop-streaming-*.jar \\\n")


def test_zip_is_reproducible(tmp_path):
    from invindex.runners.package import build_zip

    a = build_zip(tmp_path / "a").read_bytes()
    assert build_zip(tmp_path / "b").read_bytes() == a


@pytest.mark.parametrize("which", ["this", "3.9"])
def test_shipped_files_run_in_a_clean_dir(cli, tmp_path, corpus, expected, fast_counts,
                                          which, request):
    """The printed command, run as Hadoop would run it, gives the reference index."""
    python = sys.executable if which == "this" else request.getfixturevalue("python39")
    r = cli("hadoop-command", str(corpus), "-o", str(tmp_path / "out"), "--parts", "3",
            "--files-dir", str(tmp_path / "ship"))
    argv = _argv(r.out)
    parts, counters = run(argv[3:], *local_io(), python=python)
    out = tmp_path / "idx"
    out.mkdir()
    for i, data in enumerate(parts):
        (out / indexfmt.part_name(i)).write_bytes(data)
        terms = [ln.split(b"\t", 1)[0] for ln in data.splitlines()]
        assert terms == sorted(terms)
        assert all(indexfmt.partition_of(t.decode(), 3) == i for t in terms)
    assert read_index_lines(out) == expected
    assert counters["documents"] == fast_counts["documents"]
    assert counters["terms"] == fast_counts["terms"]
    assert sum(v for k, v in counters.items() if k.startswith("bad_records.")) == 4


def test_stopword_file_is_shipped(cli, tmp_path, corpus, corpus_bytes, node_python):
    words = tmp_path / "my-stop.txt"
    words.write_text("the\nand\nof\n")
    r = cli("hadoop-command", str(corpus), "-o", "out", "--files-dir", str(tmp_path / "ship"),
            "--stopwords", str(words), "--no-positions")
    argv = _argv(r.out)
    assert argv[argv.index("-mapper") + 1] == ("python3 mapper.py --stopwords my-stop.txt "
                                               "--no-positions")
    assert argv[argv.index("-files") + 1].endswith("/my-stop.txt")
    parts, _ = run(argv[3:], *local_io(), python=node_python)
    lines = sorted((ln for p in parts for ln in p.decode().split("\n")[:-1]),
                   key=lambda s: s.encode())
    assert lines == reference_lines(corpus_bytes, {"the", "and", "of"}, positions=False)
