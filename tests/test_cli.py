"""The CLI as a user meets it: exit codes, one-line errors, no half-written index."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import SAMPLE, read_index_lines


def one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_build_and_lookup(cli, tmp_path):
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "idx"))
    assert r.code == 0, r.err
    assert "Indexed 429 documents" in r.err and "terms" in r.err
    r = cli("lookup", str(tmp_path / "idx"), "LIGHT", "Darkness")
    assert r.code == 0
    lines = r.out.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == ["light", "darkness"]
    r = cli("lookup", str(tmp_path / "idx"), "--docs", "firmament")
    assert r.code == 0  # doc ids in code point order
    assert r.out.split() == [f"kjv:Genesis.1.{v}" for v in (14, 15, 17, 20, 6, 7, 8)]


def test_lookup_missing_term_exits_1(cli, tmp_path):
    assert cli("build", str(SAMPLE), "-o", str(tmp_path / "idx")).code == 0
    r = cli("lookup", str(tmp_path / "idx"), "light", "xyzzy")
    assert r.code == 1
    assert r.out.startswith("light\t") and "'xyzzy' not in index" in r.err


def test_lookup_uses_the_manifest_analyzer(cli, tmp_path):
    idx = str(tmp_path / "idx")
    assert cli("build", str(SAMPLE), "-o", idx, "--stem", "--stopwords", "english").code == 0
    r = cli("lookup", idx, "Creating")  # stems to "creat", as the index did "created"
    assert r.code == 0 and r.out.startswith("creat\t")
    assert cli("lookup", idx, "the").code == 1  # only a stopword


def test_existing_output_refused_then_overwritten(cli, tmp_path):
    idx = tmp_path / "idx"
    assert cli("build", str(SAMPLE), "-o", str(idx)).code == 0
    r = cli("build", str(SAMPLE), "-o", str(idx))
    assert r.code == 1 and "--overwrite" in one_error_line(r.err)
    r = cli("build", str(SAMPLE), "-o", str(idx), "--overwrite", "--no-positions")
    assert r.code == 0
    assert json.loads((idx / "_manifest.json").read_text())["analyzer"]["positions"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temp dirs left over


def test_usage_errors_exit_2(cli, tmp_path):
    assert cli().code == 2
    r = cli("build", str(tmp_path / "nope.tsv"), "-o", str(tmp_path / "i"))
    assert r.code == 2 and "does not exist" in one_error_line(r.err)
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "i"), "--runner", "warp")
    assert r.code == 2 and "invalid choice" in r.err
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "i"), "--stopwords",
            str(tmp_path / "missing.txt"))
    assert r.code == 2 and "missing.txt" in one_error_line(r.err)
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "i"), "--min-token-length", "0")
    assert r.code == 2
    assert not (tmp_path / "i").exists()


def test_strict_fails_with_location_and_leaves_nothing(cli, tmp_path):
    bad = tmp_path / "in.tsv"
    bad.write_bytes(b"a\tgood\nb\tfine\nthis line has no tab\n")
    for runner in ("fast", "pipe", "inline"):
        r = cli("build", str(bad), "-o", str(tmp_path / "idx"), "--strict", "-r", runner)
        assert r.code == 1, (runner, r.err)
        line = one_error_line(r.err)
        # a line number, or the byte offset where a runner split the file (as Hadoop does)
        assert ("in.tsv:3" in line or "in.tsv (split at byte 14) line 1" in line) and (
            "no tab" in line), (runner, line)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tsv"], runner


def test_bad_records_are_reported_not_fatal(cli, tmp_path):
    bad = tmp_path / "in.tsv"
    bad.write_bytes(b"a\tgood\n\tno id\nb\t\xff\n")
    r = cli("build", str(bad), "-o", str(tmp_path / "idx"))
    assert r.code == 0
    assert "in.tsv:2 (empty doc_id)" in r.err and "in.tsv:3 (not valid UTF-8)" in r.err
    assert "Skipped 2 bad record(s)" in r.err


def test_interrupted_build_leaves_no_index(cli, tmp_path, monkeypatch):
    from invindex.runners import fast

    real = fast.reduce_partition

    def dies_after_one_part(runs, out_path):
        real(runs, out_path)
        raise KeyboardInterrupt

    monkeypatch.setattr(fast.ProcessPoolExecutor, "map",
                        lambda self, fn, *its: map(dies_after_one_part, *its))
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "idx"))
    assert r.code == 130
    assert list(tmp_path.iterdir()) == []


def test_reader_refuses_incomplete_index(cli, tmp_path):
    idx = tmp_path / "idx"
    assert cli("build", str(SAMPLE), "-o", str(idx)).code == 0
    (idx / "_SUCCESS").unlink()
    r = cli("lookup", str(idx), "light")
    assert r.code == 1 and "_SUCCESS" in one_error_line(r.err)
    r = cli("lookup", str(tmp_path / "nothing"), "light")
    assert r.code == 1 and "no index" in one_error_line(r.err)


def test_config_file_and_env(cli, tmp_path, monkeypatch):
    cfg = tmp_path / "invindex.toml"
    cfg.write_text('[build]\nrunner = "pipe"\nstem = true\n')
    monkeypatch.chdir(tmp_path)
    assert cli("build", str(SAMPLE), "-o", "a").code == 0
    m = json.loads(Path("a/_manifest.json").read_text())
    assert m["runner"] == "pipe" and m["analyzer"]["stem"] == "snowball-english"
    monkeypatch.setenv("INVINDEX_RUNNER", "fast")  # env beats the file
    assert cli("build", str(SAMPLE), "-o", "b").code == 0
    assert json.loads(Path("b/_manifest.json").read_text())["runner"] == "fast"
    assert cli("build", str(SAMPLE), "-o", "c", "-r", "inline").code == 0  # flag beats env
    assert json.loads(Path("c/_manifest.json").read_text())["runner"] == "inline"
    cfg.write_text('[build]\nrunnr = "pipe"\n')
    r = cli("build", str(SAMPLE), "-o", "d")
    assert r.code == 2 and "unknown setting 'runnr'" in r.err


def test_verbose_shows_traceback_for_bugs(cli, tmp_path, monkeypatch):
    import invindex.build as b

    def boom(*a, **k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(b, "build_index", boom)
    r = cli("build", str(SAMPLE), "-o", str(tmp_path / "i"))
    assert r.code == 1 and one_error_line(r.err).endswith(
        "RuntimeError: kaput (run with --verbose for details)")
    with pytest.raises(RuntimeError):
        cli("--verbose", "build", str(SAMPLE), "-o", str(tmp_path / "i"))


def test_help_lists_runners(cli):
    r = cli("build", "--help")
    assert r.code == 0
    for runner in ("fast", "pipe", "inline", "local"):
        assert runner in r.out


def test_prepare_directory_and_jsonl(cli, tmp_path):
    d = tmp_path / "texts"
    (d / "sub").mkdir(parents=True)
    (d / "one.txt").write_text("first line\nsecond\tline\r\n")
    (d / "sub" / "two.txt").write_text("x")
    r = cli("prepare", str(d))
    assert r.code == 0
    assert r.out == "one.txt\tfirst line second line \nsub/two.txt\tx\n"
    j = tmp_path / "c.jsonl"
    j.write_text('{"id": "a", "contents": "multi\\nline"}\n{"id": 7, "contents": "n"}\n'
                 'not json\n')
    r = cli("prepare", str(j))
    assert r.code == 0 and r.out == "a\tmulti line\n7\tn\n"
    assert "skipped 1" in r.err


def test_build_from_glob(cli, tmp_path):
    (tmp_path / "x1.tsv").write_text("a\tone\n")
    (tmp_path / "x2.tsv").write_text("b\tone two\n")
    r = cli("build", str(tmp_path / "x*.tsv"), "-o", str(tmp_path / "idx"), "-r", "pipe")
    assert r.code == 0
    assert [ln for ln in read_index_lines(tmp_path / "idx") if ln[0] != "!"] == [
        'one\t{"df":2,"postings":[["a",1,[0]],["b",1,[0]]]}',
        'two\t{"df":1,"postings":[["b",1,[1]]]}']


def test_output_directory_permissions(cli, tmp_path):
    assert cli("build", str(SAMPLE), "-o", str(tmp_path / "idx")).code == 0
    mode = os.stat(tmp_path / "idx").st_mode & 0o777
    assert mode & 0o055 == 0o055 & ~_umask()


def _umask() -> int:
    u = os.umask(0)
    os.umask(u)
    return u


def test_empty_input_builds_an_empty_index(cli, tmp_path):
    (tmp_path / "empty.tsv").write_bytes(b"")
    for runner in ("fast", "pipe", "inline"):
        idx = tmp_path / f"idx-{runner}"
        r = cli("build", str(tmp_path / "empty.tsv"), "-o", str(idx), "-r", runner)
        assert r.code == 0, (runner, r.err)
        m = json.loads((idx / "_manifest.json").read_text())
        assert m["counts"]["documents"] == 0 and m["counts"]["terms"] == 0, runner
        assert read_index_lines(idx) == []
        assert cli("lookup", str(idx), "anything").code == 1


@pytest.mark.parametrize("origin", ["env", "file"])
def test_a_negative_flag_from_env_or_config_sets_its_option(cli, tmp_path, monkeypatch, origin):
    """`--no-positions` stores False in `positions`: the setting is named after the
    option (`INVINDEX_POSITIONS`, `positions = ...`), so false means no positions and
    true means positions (it used to mean "the flag was given", inverted)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INVINDEX_CONFIG", raising=False)
    for value, expect in (("false", False), ("true", True)):
        out = f"idx-{value}"
        if origin == "env":
            monkeypatch.setenv("INVINDEX_POSITIONS", value)
        else:
            Path("invindex.toml").write_text(f"[build]\npositions = {value}\n")
        assert cli("build", str(SAMPLE), "-o", out).code == 0
        m = json.loads(Path(out, "_manifest.json").read_text())
        assert m["analyzer"]["positions"] is expect, (origin, value)
