"""Issue 9, item 2: `sync --delete` and `rm -r` never delete on a typo.

A source that does not exist (or holds nothing) is an error that deletes nothing;
`--delete` with a single-file source is refused; `--dry-run` shows and changes nothing;
`--max-delete N` refuses, before anything is copied or deleted, to delete more than N.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from invindex.cli import main
from invindex.storage import get_store


def _files(root: Path) -> list:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _local(root: Path, names) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def _keys(bucket: str, prefix: str) -> list:
    return sorted(i.key for i in get_store(bucket).list(prefix))


def _upload(bucket: str, tmp_path: Path, prefix: str, names) -> None:
    src = _local(tmp_path / f"up-{uuid.uuid4().hex[:6]}", names)
    assert main(["-q", "stage", "cp", "-r", str(src), f"{bucket}/{prefix}"]) == 0


FOUR = ["a.tsv", "b.tsv", "sub/c.tsv", "sub/d.tsv"]


def test_sync_delete_from_missing_prefix_deletes_nothing(bucket, tmp_path, capsys) -> None:
    """The issue's typo: `sync --delete s3://mirror/dta/ local/` printed '4 deleted'."""
    _upload(bucket, tmp_path, "data/", FOUR)
    local = _local(tmp_path / "local", FOUR)
    assert main(["stage", "sync", "--delete", f"{bucket}/dta/", str(local)]) == 1
    err = capsys.readouterr().err
    assert "nothing to sync" in err and " deleted" not in err.replace("or deleted", "")
    assert _files(local) == FOUR


def test_sync_delete_from_missing_local_dir_deletes_nothing(bucket, tmp_path, capsys) -> None:
    """`sync --delete missing_dir/ s3://b/data/` deleted every object."""
    _upload(bucket, tmp_path, "data/", FOUR)
    assert main(["stage", "sync", "--delete", str(tmp_path / "missing_dir") + "/",
                 f"{bucket}/data/"]) == 1
    assert "nothing to sync" in capsys.readouterr().err
    assert _keys(bucket, "data/") == [f"data/{n}" for n in FOUR]


def test_sync_from_empty_dir_is_an_error(s3, make_bucket, tmp_path) -> None:
    bucket = make_bucket("s3")
    _upload(bucket, tmp_path, "data/", FOUR)
    (tmp_path / "empty").mkdir()
    assert main(["-q", "stage", "sync", "--delete", str(tmp_path / "empty"),
                 f"{bucket}/data/"]) == 1
    assert len(_keys(bucket, "data/")) == 4


def test_sync_delete_single_file_source_refused(s3, make_bucket, tmp_path, capsys) -> None:
    bucket = make_bucket("s3")
    _upload(bucket, tmp_path, "data/", FOUR)
    local = _local(tmp_path / "local", FOUR)
    assert main(["stage", "sync", "--delete", f"{bucket}/data/a.tsv", str(local)]) == 2
    assert "single file" in capsys.readouterr().err
    assert main(["stage", "sync", "--delete", str(local / "a.tsv"), f"{bucket}/data/"]) == 2
    assert _files(local) == FOUR and len(_keys(bucket, "data/")) == 4
    # without --delete a single file syncs as before
    assert main(["-q", "stage", "sync", f"{bucket}/data/a.tsv", str(tmp_path / "one")]) == 0
    assert _files(tmp_path / "one") == ["a.tsv"]


def test_sync_dry_run_changes_nothing(s3, make_bucket, tmp_path, capsys) -> None:
    bucket = make_bucket("s3")
    _upload(bucket, tmp_path, "data/", ["a.tsv", "new.tsv"])
    local = _local(tmp_path / "local", ["a.tsv", "extra1.tsv", "extra2.tsv"])
    (local / "a.tsv").write_text("other")
    before = {p: (local / p).read_text() for p in _files(local)}
    assert main(["stage", "sync", "--delete", "--dry-run", f"{bucket}/data/", str(local)]) == 0
    out, err = capsys.readouterr()
    assert {p: (local / p).read_text() for p in _files(local)} == before
    assert f"would copy {bucket}/data/new.tsv -> {local / 'new.tsv'}" in out
    assert f"would copy {bucket}/data/a.tsv" in out
    assert f"would delete {local / 'extra1.tsv'}" in out
    assert "Dry run: would copy 2 file(s)" in err and "delete 2" in err


def test_max_delete_caps_sync_and_rm(s3, make_bucket, tmp_path, capsys) -> None:
    bucket = make_bucket("s3")
    _upload(bucket, tmp_path, "data/", FOUR)
    src = _local(tmp_path / "src", ["a.tsv", "new.tsv"])
    assert main(["stage", "sync", "--delete", "--max-delete", "2", str(src),
                 f"{bucket}/data/"]) == 1
    assert "--max-delete 2" in capsys.readouterr().err
    assert _keys(bucket, "data/") == [f"data/{n}" for n in FOUR]  # nothing copied either
    assert main(["-q", "stage", "sync", "--delete", "--max-delete", "3", str(src),
                 f"{bucket}/data/"]) == 0
    assert _keys(bucket, "data/") == ["data/a.tsv", "data/new.tsv"]
    assert main(["stage", "rm", "-r", "--max-delete", "1", f"{bucket}/data/"]) == 1
    assert "--max-delete 1" in capsys.readouterr().err
    assert len(_keys(bucket, "data/")) == 2


def test_rm_dry_run_changes_nothing(bucket, tmp_path, capsys) -> None:
    _upload(bucket, tmp_path, "data/", FOUR)
    assert main(["stage", "rm", "-r", "--dry-run", f"{bucket}/data/"]) == 0
    out, err = capsys.readouterr()
    assert sorted(line.split(" ", 2)[-1] for line in out.splitlines()) == \
        [f"{bucket}/data/{n}" for n in FOUR]
    assert "Dry run: would remove 4 object(s)" in err
    assert len(_keys(bucket, "data/")) == 4
    local = _local(tmp_path / "local", FOUR)
    assert main(["-q", "stage", "rm", "-r", "--dry-run", str(local)]) == 0
    assert _files(local) == FOUR


@pytest.mark.parametrize("value", ["-1", "x"])
def test_max_delete_must_be_a_count(value, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["stage", "rm", "-r", "--max-delete", value, "somewhere"])
    assert e.value.code == 2 and "expected a count" in capsys.readouterr().err


def test_sync_delete_with_refused_keys_deletes_nothing(s3, make_bucket, tmp_path, capsys) -> None:
    """A source whose keys are refused is not what the destination should mirror: the
    good keys are copied, nothing is deleted, exit 1."""
    bucket = make_bucket("s3")
    payload = tmp_path / "p"
    payload.write_text("x")
    for key in ["data/ok.tsv", "data/../evil.tsv"]:
        get_store(bucket).put_file(payload, key)
    local = _local(tmp_path / "local", ["mine.tsv"])
    assert main(["stage", "sync", "--delete", f"{bucket}/data/", str(local)]) == 1
    err = capsys.readouterr().err
    assert _files(local) == ["mine.tsv", "ok.tsv"]
    assert "1 not deleted" in err
    assert main(["stage", "sync", "-n", "--delete", f"{bucket}/data/", str(local)]) == 1
    out, err = capsys.readouterr()
    assert "would delete" not in out and "delete 0" in err
