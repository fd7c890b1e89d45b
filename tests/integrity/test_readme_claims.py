"""README claims the issue found untrue, checked against the program."""

from __future__ import annotations

from pathlib import Path

from ..conftest import REPO


def test_hadoop_command_is_one_option_per_line_with_absolute_files(cli, tmp_path,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("hadoop-command", "hdfs:///in", "-o", "hdfs:///out", "-q")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("hadoop jar ") and all(ln.endswith(" \\") for ln in lines[:-1])
    assert all(ln.strip().startswith("-") for ln in lines[1:])
    files = next(ln for ln in lines if ln.strip().startswith("-files ")).split()[1]
    assert all(Path(f).is_absolute() for f in files.split(","))
    readme = (REPO / "README.md").read_text()
    assert "one option with its value per line" in readme and "absolute paths" in readme


def test_demo_sh_installs_what_the_readme_says():
    demo = (REPO / "scripts" / "demo.sh").read_text()
    readme = (REPO / "README.md").read_text()
    assert "-e '.[fast]'" in demo
    assert "`demo.sh` installs invindex with its `fast` extra" in readme
    assert "installs only invindex itself" not in readme
