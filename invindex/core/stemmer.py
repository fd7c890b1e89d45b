"""Snowball English ("Porter2") stemmer, standard library only.

Written from the Snowball English algorithm (snowballstem.org), current revision
(Snowball 3), so that cluster nodes need no third-party wheel and index terms are exactly
the stems that other Snowball implementations produce. The `snowballstemmer` package is
used by the tests only, as the reference. Besides the classic Porter2 steps, Snowball 3
adds: R1 prefixes past/univers/later/emerg/organ/inter, 'past' as a short syllable,
step-2 'ogist' -> 'og', 'Cying' -> 'Cie', no undoubling after a lone initial a/e/o
('add', 'egg', 'odd') and proceed/exceed/succeed kept before -ly.

Speed (this runs on every token): the regions cost one regex call each, every "among"
(longest matching suffix wins) is a dict lookup on the last letter plus a few
`str.endswith` calls, and `make_stemmer` adds an LRU cache, which real (Zipfian) text
hits almost always.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

__all__ = ["stem", "make_stemmer"]

# 'y' is a vowel unless it was marked consonantal ('Y') by the prelude.
_VOWELS = frozenset("aeiouy")
# A short syllable ends in a non-vowel other than w, x or Y.
_SHORT_CLOSER_EXCLUDED = frozenset("aeiouywxY")

# A region starts just past the first non-vowel that follows a vowel (R2: searched from
# R1). Anything but a lowercase vowel is a non-vowel, including 'Y', digits and
# non-ASCII letters, exactly as in Snowball.
_VOWEL_THEN_NON_VOWEL = re.compile("[aeiouy][^aeiouy]")

# Words whose stem is fixed, checked before anything else.
_EXCEPTIONS1 = {
    # irregular forms
    "skis": "ski",
    "skies": "sky",
    "dying": "die",
    "lying": "lie",
    "tying": "tie",
    # -ly words whose -ly must stay
    "idly": "idl",
    "gently": "gentl",
    "ugly": "ugli",
    "early": "earli",
    "only": "onli",
    "singly": "singl",
    # invariant forms (not plurals, or already stems)
    "sky": "sky",
    "news": "news",
    "howe": "howe",
    "atlas": "atlas",
    "cosmos": "cosmos",
    "bias": "bias",
    "andes": "andes",
}

# Whole words that, after step 1a, are left alone: -ing/-ed here is not a suffix.
_EXCEPTIONS2 = frozenset(
    ("inning", "outing", "canning", "herring", "earring", "evening", "proceed", "exceed", "succeed")
)

# Prefixes that define R1 on their own, so related words share a stem
# (generate/general, communism/community, arsenic/arsenal, ...).
_R1_PREFIXES = ("gener", "commun", "arsen", "past", "univers", "later", "emerg", "organ", "inter")
# R1 start in one regex call: a listed prefix (none is a prefix of another), else the
# standard rule.
_R1_RE = re.compile("|".join(_R1_PREFIXES) + "|[^aeiouy]*[aeiouy]+[^aeiouy]")

# Stems before -eed/-eedly that are not suffixed forms (proceed, exceed, succeed).
_EED_KEEP = frozenset(("proc", "exc", "succ"))

_DOUBLES = frozenset(("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"))
_VALID_LI = frozenset("cdeghkmnrt")

# Step 1b suffixes, longest first (an "among" takes the longest match).
_STEP1B = ("eedly", "ingly", "edly", "eed", "ing", "ed")

# Sentinels for the two conditional step-2 rules.
_OGI = "\x00ogi"
_LI = "\x00li"


def _by_last_letter(pairs: tuple[tuple[str, str], ...]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Group (suffix, replacement) pairs by last letter, longest suffix first."""
    table: dict[str, list[tuple[str, str]]] = {}
    for suffix, repl in pairs:
        table.setdefault(suffix[-1], []).append((suffix, repl))
    return {k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in table.items()}


_STEP2 = _by_last_letter(
    (
        ("tional", "tion"),
        ("enci", "ence"),
        ("anci", "ance"),
        ("abli", "able"),
        ("entli", "ent"),
        ("izer", "ize"),
        ("ization", "ize"),
        ("ational", "ate"),
        ("ation", "ate"),
        ("ator", "ate"),
        ("alism", "al"),
        ("aliti", "al"),
        ("alli", "al"),
        ("fulness", "ful"),
        ("ousli", "ous"),
        ("ousness", "ous"),
        ("iveness", "ive"),
        ("iviti", "ive"),
        ("biliti", "ble"),
        ("bli", "ble"),
        ("ogi", _OGI),
        ("ogist", "og"),
        ("fulli", "ful"),
        ("lessli", "less"),
        ("li", _LI),
    )
)

# Step 3: 'ative' is only removed inside R2, marked by the sentinel.
_ATIVE = "\x00ative"
_STEP3 = _by_last_letter(
    (
        ("tional", "tion"),
        ("ational", "ate"),
        ("alize", "al"),
        ("icate", "ic"),
        ("iciti", "ic"),
        ("ical", "ic"),
        ("ful", ""),
        ("ness", ""),
        ("ative", _ATIVE),
    )
)

# Step 4: deleted when in R2; 'ion' only after 's' or 't'.
_STEP4 = _by_last_letter(
    tuple(
        (s, "")
        for s in (
            "al",
            "ance",
            "ence",
            "er",
            "ic",
            "able",
            "ible",
            "ant",
            "ement",
            "ment",
            "ent",
            "ism",
            "ate",
            "iti",
            "ous",
            "ive",
            "ize",
            "ion",
        )
    )
)


def _ends_short_syllable(w: str) -> bool:
    """True if `w` ends in a short syllable (the test behind 'hop' -> 'hope')."""
    n = len(w)
    if n >= 3:
        if w[-1] not in _SHORT_CLOSER_EXCLUDED and w[-2] in _VOWELS and w[-3] not in _VOWELS:
            return True
    elif n == 2:
        return w[0] in _VOWELS and w[1] not in _VOWELS
    # 'past' behaves as short so that pasted/pasting -> paste.
    return w.endswith("past")


def stem(word: str) -> str:
    """Return the Snowball English stem of a lowercase token.

    Words of length <= 2 come back unchanged, as in Snowball.
    """
    if len(word) < 3:
        return word
    fixed = _EXCEPTIONS1.get(word)
    if fixed is not None:
        return fixed

    # --- prelude: drop a leading apostrophe; mark consonantal y as 'Y'.
    w = word[1:] if word[0] == "'" else word
    y_found = False
    if "y" in w:
        chars = list(w)
        if chars and chars[0] == "y":
            chars[0] = "Y"
            y_found = True
        for i in range(1, len(chars)):
            if chars[i] == "y" and chars[i - 1] in _VOWELS:
                chars[i] = "Y"
                y_found = True
        if y_found:
            w = "".join(chars)

    # --- regions. Positions stay valid: every later change is at the end of the word.
    m = _R1_RE.match(w)
    p1 = m.end() if m is not None else len(w)
    m = _VOWEL_THEN_NON_VOWEL.search(w, p1)
    p2 = m.end() if m is not None else len(w)

    # --- step 1a: possessives, then plurals.
    if "'" in w:
        if w.endswith("'s'"):
            w = w[:-3]
        elif w.endswith("'s"):
            w = w[:-2]
        elif w.endswith("'"):
            w = w[:-1]
    if w.endswith("s"):
        if w.endswith("sses"):
            w = w[:-2]
        elif w.endswith(("ies", "ied")):
            w = w[:-2] if len(w) > 4 else w[:-1]
        elif w.endswith(("ss", "us")):
            pass
        else:
            # Delete 's' if a vowel occurs before the letter preceding it.
            if not _VOWELS.isdisjoint(w[:-2]):
                w = w[:-1]
    elif w.endswith("ied"):
        w = w[:-2] if len(w) > 4 else w[:-1]

    if not w or w in _EXCEPTIONS2:  # empty only for apostrophe-only input like "''s"
        return w

    # --- step 1b: -eed/-eedly, -ed/-edly/-ing/-ingly.
    last = w[-1:]
    if last in ("d", "g", "y"):
        for suffix in _STEP1B:
            if w.endswith(suffix):
                base = len(w) - len(suffix)
                if suffix[0] == "e" and suffix[1] == "e":
                    # 'proceedly' keeps its 'eed' (step 2 later drops the 'ly').
                    if base >= p1 and w[:base] not in _EED_KEEP:
                        w = w[:base] + "ee"
                else:
                    s = w[:base]
                    if _VOWELS.isdisjoint(s):
                        break
                    tail = s[-2:]
                    if suffix == "ing" and base == 2 and s[1] == "y":
                        w = s[0] + "ie"  # 'bying' -> 'bie', like dying -> die
                    elif tail in ("at", "bl", "iz"):
                        w = s + "e"
                    elif tail in _DOUBLES:
                        # Keep 'add', 'egg', 'odd': a one-letter a/e/o before the double.
                        w = s if (len(s) == 3 and s[0] in "aeo") else s[:-1]
                    elif len(s) == p1 and _ends_short_syllable(s):
                        w = s + "e"
                    else:
                        w = s
                break

    # --- step 1c: final y after a consonant (not the first letter) -> i.
    if len(w) > 2 and w[-1] in "yY" and w[-2] not in _VOWELS:
        w = w[:-1] + "i"

    # --- step 2: in R1.
    n = len(w)
    rules = _STEP2.get(w[-1])
    if rules is not None:
        for suffix, repl in rules:
            if w.endswith(suffix):
                base = n - len(suffix)
                if base >= p1:
                    if repl is _OGI:
                        if w[base - 1] == "l":
                            w = w[:base] + "og"
                    elif repl is _LI:
                        if w[base - 1] in _VALID_LI:
                            w = w[:base]
                    else:
                        w = w[:base] + repl
                break

    # --- step 3: in R1.
    n = len(w)
    rules = _STEP3.get(w[-1])
    if rules is not None:
        for suffix, repl in rules:
            if w.endswith(suffix):
                base = n - len(suffix)
                if base >= p1:
                    if repl is _ATIVE:
                        if base >= p2:
                            w = w[:base]
                    else:
                        w = w[:base] + repl
                break

    # --- step 4: in R2.
    n = len(w)
    rules = _STEP4.get(w[-1])
    if rules is not None:
        for suffix, _ in rules:
            if w.endswith(suffix):
                base = n - len(suffix)
                if base >= p2 and (suffix != "ion" or w[base - 1] in "st"):
                    w = w[:base]
                break

    # --- step 5: final e; ll -> l.
    n = len(w)
    if w[-1] == "e":
        base = n - 1
        if base >= p2 or (base >= p1 and not _ends_short_syllable(w[:base])):
            w = w[:base]
    elif w[-1] == "l" and n - 1 >= p2 and w[-2] == "l":
        w = w[:-1]

    if y_found:
        w = w.replace("Y", "y")
    return w


def make_stemmer(cache_size: int = 100_000) -> Callable[[str], str]:
    """Return `stem` behind an LRU cache of `cache_size` words.

    Token frequencies are Zipfian, so a modest cache turns most calls into a dict
    lookup. Each call builds an independent cache (one per worker process or job).
    """
    return lru_cache(maxsize=cache_size)(stem)
