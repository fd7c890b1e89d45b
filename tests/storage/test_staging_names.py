"""The names of a build's staging prefix (``invindex/index/staging.py``), without an
emulator: which names are whose decides what the sweep of a killed build deletes."""

from __future__ import annotations

from invindex.index.staging import output_name, staging_name, staging_owner
from invindex.temps import owner_tag


def test_a_fresh_name_is_recognized_as_its_outputs_only():
    name = staging_name("idx")
    assert staging_owner("idx", name) == owner_tag()
    assert staging_owner("idx2", name) is None and staging_owner("id", name) is None
    assert staging_name("idx") != name  # random per build


def test_only_the_exact_pattern_is_a_staging_prefix():
    assert staging_owner("idx", ".idx.tmp-host7-42-0123abcd") == "host7-42"
    for other in (".idx2.tmp-host7-42-0123abcd",  # another output's
                  ".idx.tmp-x.tmp-host7-42-0123abcd",  # the output idx.tmp-x's
                  ".idx.tmp-notes", ".idx.tmp-host7-42-0123abcd-copy",
                  ".idx.tmp-host7-42-0123ABCD", ".idx.tmp-ho.st-42-0123abcd",
                  "idx.tmp-host7-42-0123abcd", ".idx.lock"):
        assert staging_owner("idx", other) is None, other
    # a name with regex characters is matched literally
    assert staging_owner("a+b", ".a+b.tmp-h-1-0123abcd") == "h-1"
    assert staging_owner("a+b", ".aab.tmp-h-1-0123abcd") is None
    assert staging_owner("a.b", ".aXb.tmp-h-1-0123abcd") is None


def test_output_name_of_a_prefix_and_of_a_bucket_root():
    assert output_name("a/idx", "b") == ("a", "idx")
    assert output_name("a/idx/", "b") == ("a", "idx")
    assert output_name("idx", "b") == ("", "idx")
    assert output_name("", "b") == ("", "b")
