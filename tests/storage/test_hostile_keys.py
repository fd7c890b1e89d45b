"""Issue 9, items 1 and 3: a hostile bucket cannot write outside the destination.

Every download (``stage cp -r``, ``stage sync``, the staging of cloud inputs for
``build``) maps an object key to a local path through ``storage.localpath``; a key it
cannot map is refused, counted and reported, and the command exits non-zero at the end.

What each emulator lets us store (checked by hand): moto (S3) stores every key here;
gcp-storage-emulator rejects a ``..`` segment (its connection drops and the SDK retries
for two minutes, so those keys are not sent to it); Azurite answers ``400
OutOfRangeInput`` to ``..`` and ``AuthorizationFailure`` to ``.`` segments (the SDK's
signature covers the path before the server normalizes it). S3 accepts any key, and
what a service refuses today is not a promise, so the check is ours, on every download.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from invindex.cli import main
from invindex.errors import InvindexError
from invindex.remote import stage_inputs
from invindex.storage import get_store

BAD_DOTDOT = "corpus/" + "../" * 40 + "{outside}/PWNED.tsv"  # enough to reach /
BAD_DOT = "corpus/./dot.tsv"
BAD_LEADING = "corpus//lead.tsv"      # relative to corpus/: "/lead.tsv"
TWIN_A, TWIN_B = "corpus/a//b.txt", "corpus/a/b.txt"
GOOD = ["corpus/ok.tsv", "corpus/sub/ok2.tsv"]
# keys each emulator can store (see the module docstring)
ACCEPTS = {"s3": {"dotdot", "dot"}, "gs": {"dot"}, "az": set()}


def _put(bucket: str, tmp_path: Path, keys) -> None:
    store = get_store(bucket)
    src = tmp_path / "payload"
    src.write_text("d\tpwned\n")
    for key in keys:
        store.put_file(src, key)


def _hostile(scheme: str, outside: Path) -> list:
    keys = [BAD_LEADING]
    if "dotdot" in ACCEPTS[scheme]:
        keys.append(BAD_DOTDOT.format(outside=os.path.relpath(outside, "/")))
    if "dot" in ACCEPTS[scheme]:
        keys.append(BAD_DOT)
    return keys


def _files(root: Path) -> list:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("verb", ["cp", "sync"])
def test_download_refuses_keys_outside(bucket, tmp_path, capsys, verb) -> None:
    """The issue's example key written to /tmp/... by `cp -r` and `sync`: now refused."""
    scheme = bucket.split(":")[0]
    outside = tmp_path / "outside"
    dest = tmp_path / "work" / "deep" / "dest"
    dest.mkdir(parents=True)
    hostile = _hostile(scheme, outside)
    _put(bucket, tmp_path, GOOD + hostile)
    args = ["stage", verb] + (["-r"] if verb == "cp" else []) + [f"{bucket}/corpus/", str(dest)]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 1
    assert not outside.exists()
    assert _files(dest) == ["ok.tsv", "sub/ok2.tsv"]
    for key in hostile:
        assert f"{bucket}/{key}" in err
    assert f"{len(hostile)} refused" in err
    assert "2 file(s)" in err
    assert not list(dest.rglob(".*"))  # no temporary left behind


def test_two_keys_one_file_refused(bucket, tmp_path, capsys) -> None:
    """`a//b.txt` and `a/b.txt` would both land on a/b.txt: both refused, summary exact."""
    _put(bucket, tmp_path, GOOD + [TWIN_A, TWIN_B])
    dest = tmp_path / "dest"
    assert main(["stage", "cp", "-r", f"{bucket}/corpus/", str(dest)]) == 1
    err = capsys.readouterr().err
    assert _files(dest) == ["ok.tsv", "sub/ok2.tsv"]
    assert "Copied 2 file(s)" in err and "2 refused" in err
    assert "same local file" in err


def test_file_and_directory_of_one_name_refused(s3, make_bucket, tmp_path, capsys) -> None:
    """`x` and `x/y` cannot both exist locally: both refused, the rest copied."""
    bucket = make_bucket("s3")
    _put(bucket, tmp_path, GOOD + ["corpus/x", "corpus/x/y"])
    dest = tmp_path / "dest"
    assert main(["stage", "cp", "-r", f"{bucket}/corpus/", str(dest)]) == 1
    assert _files(dest) == ["ok.tsv", "sub/ok2.tsv"]
    assert "2 refused" in capsys.readouterr().err


def test_build_staging_refuses_keys_outside(s3, make_bucket, tmp_path) -> None:
    """`invindex build 's3://b/corpus/*'`: a glob matches the '..' key (fnmatch's * crosses
    '/'); staging refuses before downloading anything."""
    bucket = make_bucket("s3")
    outside = tmp_path / "outside"
    stage = tmp_path / "w" / "x" / "stage"
    hostile = BAD_DOTDOT.format(outside=os.path.relpath(outside, "/"))
    _put(bucket, tmp_path, GOOD + [hostile])
    with pytest.raises(InvindexError, match="refused") as e:
        stage_inputs([f"{bucket}/corpus/*"], stage)
    assert hostile in str(e.value)
    assert not outside.exists()
    assert not stage.exists() or _files(stage) == []


def test_single_object_named_dotdot_refused(s3, make_bucket, tmp_path, capsys) -> None:
    """`stage cp s3://b/corpus/.. dest/`: the object's own name is mapped the same way."""
    bucket = make_bucket("s3")
    _put(bucket, tmp_path, ["corpus/.."])
    dest = tmp_path / "a" / "dest"
    dest.mkdir(parents=True)
    assert main(["stage", "cp", f"{bucket}/corpus/..", str(dest) + "/"]) == 1
    assert "refused" in capsys.readouterr().err
    assert _files(tmp_path / "a") == []
