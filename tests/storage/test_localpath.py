"""The key -> local path mapping every download uses (``storage.localpath``): properties."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.storage.localpath import UnsafeKey, local_path, plan_paths, printable

# keys built from the pieces that matter: separators, dot segments, NUL, long names
pieces = st.one_of(
    st.sampled_from(["/", "//", ".", "..", "\0", "a", "b.txt", "\\", "~", "é", "\udcff",
                     "\ud800", "n" * 250, "n" * 256, " ", "..."]),
    st.text(max_size=8),
)
keys = st.lists(pieces, max_size=12).map("".join)


def _strictly_below(path: str, dest: str) -> bool:
    root, full = os.path.realpath(dest), os.path.realpath(path)
    return full != root and os.path.commonpath([root, full]) == root


@settings(max_examples=500, deadline=None)
@given(key=keys)
def test_any_key_lands_strictly_below_or_is_refused(tmp_path_factory, key) -> None:
    dest = str(tmp_path_factory.getbasetemp() / "dest")
    try:
        path = local_path(dest, key)
    except UnsafeKey:
        return
    assert _strictly_below(path, dest)
    assert len(os.fsencode(os.path.basename(path))) <= 255
    assert "\0" not in path


@settings(max_examples=200, deadline=None)
@given(rels=st.lists(keys, max_size=8, unique=True))
def test_plan_paths_gives_distinct_files_never_nested(tmp_path_factory, rels) -> None:
    dest = str(tmp_path_factory.getbasetemp() / "dest")
    mapped, refused = plan_paths(dest, rels)
    assert set(mapped) | {r.key for r in refused} == set(rels)
    paths = list(mapped.values())
    assert len(set(paths)) == len(paths)
    for p in paths:
        assert _strictly_below(p, dest)
        assert not any(q.startswith(p + os.sep) for q in paths)


@given(parts=st.lists(st.text(st.characters(blacklist_characters="/\\\0",
                                            blacklist_categories=("Cs",)),
                              min_size=1, max_size=20).filter(lambda s: s not in (".", "..")),
                      min_size=1, max_size=5))
def test_plain_names_are_kept(tmp_path_factory, parts) -> None:
    dest = str(tmp_path_factory.getbasetemp() / "dest")
    assert local_path(dest, "/".join(parts)) == os.path.join(dest, *parts)


@pytest.mark.parametrize("key,reason", [
    ("corpus/../../etc/x", "'..' segment"), ("./a", "'.' segment"), ("/etc/x", "leading '/'"),
    ("a\0b", "NUL"), ("", "empty"), ("a/" + "n" * 256, "256 bytes"), ("//", "leading"),
    ("a/\ud800", "cannot encode"), ("/".join(["d" * 200] * 21), "path of"),
])
def test_refusals_say_why(tmp_path, key, reason) -> None:
    with pytest.raises(UnsafeKey, match=reason):
        local_path(tmp_path, key)


def test_collisions_refused(tmp_path) -> None:
    mapped, refused = plan_paths(tmp_path, ["a//b.txt", "a/b.txt", "c", "x", "x/y", "ok"])
    assert mapped == {"c": str(tmp_path / "c"), "ok": str(tmp_path / "ok")}
    by_key = {r.key: r for r in refused}
    assert set(by_key) == {"a//b.txt", "a/b.txt", "x", "x/y"}
    assert "two keys, one file" in by_key["a/b.txt"].reason


def test_printable_escapes_terminal_controls() -> None:
    assert printable("a\x1b]0;pwned\x07\nb c\u0085é") == "a\\x1b]0;pwned\\x07\\nb c\\x85é"
