"""invindex.core.stemmer must give exactly the stems of the official Snowball English
stemmer, the `snowballstemmer` package (Snowball 3), on real and adversarial words; it
now is that package (it was a port of our own), shipped to nodes in invindex.zip.
"""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
import snowballstemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from invindex.core.stemmer import make_stemmer, stem

REPO = Path(__file__).resolve().parents[1]
VOCABULARY = Path(__file__).with_name("data") / "stem_vocabulary.txt"

_reference = snowballstemmer.stemmer("english")


def reference(word: str) -> str:
    return _reference.stemWord(word)


def load_vocabulary() -> list[str]:
    lines = VOCABULARY.read_text("utf-8").splitlines()
    return [w for w in lines if w and not w.startswith("#")]


def mismatches(words):
    return [(w, stem(w), reference(w)) for w in words if stem(w) != reference(w)]


def test_reference_is_snowball_3():
    # Snowball 3 changed the English algorithm (R1 prefixes such as 'univers', -ogist,
    # 'add'/'egg' kept doubled, ...); snowballstemmer 2.x would report false mismatches.
    assert int(version("snowballstemmer").split(".")[0]) >= 3


def test_vocabulary_file_is_tokens():
    words = load_vocabulary()
    assert len(words) > 3000
    assert len(set(words)) == len(words)
    assert all(w.isalnum() and w == w.lower() for w in words)


def test_vocabulary_matches_reference():
    assert mismatches(load_vocabulary()) == []


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("running", "run"),
        ("generously", "generous"),
        ("communism", "communism"),
        ("university", "universiti"),
        ("geologists", "geolog"),
        ("skies", "sky"),
        ("dying", "die"),
        ("bying", "bie"),
        ("exceedly", "exceed"),
        ("innings", "inning"),
        ("added", "add"),
        ("hopping", "hop"),
        ("hoping", "hope"),
        ("pasted", "paste"),
        ("sayings", "say"),
        ("youth", "youth"),
        ("cafés", "café"),
        ("naïvely", "naïv"),
        ("1990s", "1990s"),
    ],
)
def test_known_stems(word, expected):
    assert stem(word) == expected == reference(word)


@pytest.mark.parametrize("word", ["", "a", "é", "1", "by", "is", "as", "yy", "ß9"])
def test_short_words_unchanged(word):
    assert stem(word) == word


@pytest.mark.parametrize(
    "word",
    # Not produced by the tokenizer, but stem() handles Snowball's apostrophe rules too.
    ["'s", "''s", "'''", "dog's", "dogs'", "dog's'", "'tis", "'yelling", "ski's", "'y's"],
)
def test_apostrophes_match_reference(word):
    assert stem(word) == reference(word)


_LETTERS = "abcdefghijklmnopqrstuvwxyz" + "aeiouyyy" + "éïñßøå" + "0123456789"
_CHUNKS = [
    # prefixes with their own R1 rules, exceptional stems, short syllables
    "gener", "commun", "arsen", "past", "univers", "later", "emerg", "organ", "inter", "sk",
    "dy", "ly", "ty", "proc", "exc", "succ", "inn", "out", "herr", "even", "hop", "ad",
    "eg", "od", "b", "y", "ay", "oy", "tr", "é", "ï", "7",
    # suffixes of every step
    "s", "es", "ies", "ied", "sses", "ss", "us", "ed", "eed", "ing", "ingly", "edly",
    "eedly", "ly", "tional", "enci", "anci", "abli", "entli", "izer", "ization", "ational",
    "ation", "ator", "alism", "aliti", "alli", "fulness", "ousli", "ousness", "iveness",
    "iviti", "biliti", "bli", "ogi", "ogist", "fulli", "lessli", "li", "alize", "icate",
    "iciti", "ical", "ful", "ness", "ative", "al", "ance", "ence", "er", "ic", "able",
    "ible", "ant", "ement", "ment", "ent", "ism", "ate", "iti", "ous", "ive", "ize", "ion",
    "sion", "tion", "e", "l", "ll", "at", "bl", "iz", "bb", "dd", "ff", "gg", "mm", "nn",
    "pp", "rr", "tt",
]


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.sampled_from(_LETTERS), max_size=16))
def test_random_strings_match_reference(word):
    assert stem(word) == reference(word)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(_CHUNKS), st.sampled_from(_LETTERS)), max_size=5).map(
        "".join
    )
)
def test_suffix_combinations_match_reference(word):
    assert stem(word) == reference(word)


def test_cached_stemmer_agrees_and_caches():
    cached = make_stemmer(cache_size=3)
    words = ["running", "runs", "running", "ran", "generously", "running"]
    assert [cached(w) for w in words] == [stem(w) for w in words]
    info = cached.cache_info()
    assert info.maxsize == 3 and info.hits == 2 and info.currsize == 3
    # independent caches per call
    assert make_stemmer().cache_info().currsize == 0


def test_runs_on_python39_from_the_job_zip(python39, tmp_path):
    # Cluster nodes run Python 3.9 with nothing installed: the stemmer comes from the
    # invindex.zip shipped with the job, which carries snowballstemmer.
    from invindex.runners.package import build_zip

    zip_path = build_zip(tmp_path)
    words = load_vocabulary()
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from invindex.core.stemmer import stem;"
        "import snowballstemmer;"
        "assert snowballstemmer.__file__.startswith(sys.argv[1]), snowballstemmer.__file__;"
        "print(json.dumps([stem(w) for w in json.load(sys.stdin)]))"
    )
    out = subprocess.run(
        [python39, "-I", "-c", code, str(zip_path)],
        input=json.dumps(words),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == [reference(w) for w in words]
