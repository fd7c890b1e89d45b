"""The analyzer: text -> (term, position) pairs, the same on every runner and reader.

Default: tokens are maximal runs of ``str.isalnum()`` characters in ``text.lower()``
(regex ``[^\\W_]+``); a position is the token's 0-based ordinal in the record. Options
drop tokens (length limits, stopwords) without renumbering the others, so positions
stay the ordinals of the original token stream (as Lucene keeps position gaps), and
phrase distance is not distorted by removed words. Stemming maps each kept token.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import Callable, Dict, FrozenSet, Iterable, List, Sequence, Tuple, Union

    # A record's terms and their positions as text; a term seen once: the position itself.
    Grouped = Dict[str, Union[str, List[str]]]

TOKEN_RE = re.compile(r"[^\W_]+")

# Lucene's English stop set (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET): short on purpose,
# so that search for "the who" style queries still mostly works.
ENGLISH_STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
))


class Analyzer:
    """Analyzer settings. Recorded in the manifest, so readers analyze queries alike.

    Immutable, compared and hashed by its settings (compiled analyzers are cached by
    it), as a frozen dataclass would be; a plain class because importing dataclasses
    (and inspect with it) was a third of what a streaming task imports at start.
    ``store_text`` is not analysis proper, but what the mapper emits, recorded and
    passed like it: each document's text kept (compressed) in the index, for snippets.
    """

    __slots__ = ("stopwords", "stopwords_name", "stem", "min_token_length",
                 "max_token_length", "positions", "store_text")
    stopwords: FrozenSet[str]
    stopwords_name: str | None  # "english", a file name, or None
    stem: bool
    min_token_length: int
    max_token_length: int | None
    positions: bool
    store_text: bool

    def __init__(self, stopwords: FrozenSet[str] = frozenset(),
                 stopwords_name: str | None = None, stem: bool = False,
                 min_token_length: int = 1, max_token_length: int | None = None,
                 positions: bool = True, store_text: bool = False) -> None:
        if min_token_length < 1:
            raise ValueError("min_token_length must be at least 1")
        if max_token_length is not None and max_token_length < min_token_length:
            raise ValueError("max_token_length must be >= min_token_length")
        for name, value in zip(self.__slots__, (
                stopwords, stopwords_name, stem, min_token_length, max_token_length,
                positions, store_text)):
            object.__setattr__(self, name, value)

    def settings(self) -> tuple:
        """The settings, in the constructor's order."""
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.settings() == other.settings()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.settings())

    def __repr__(self) -> str:
        return "Analyzer(" + ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__slots__) + ")"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} (Analyzer is immutable)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} (Analyzer is immutable)")

    def __reduce__(self) -> tuple:  # to worker processes: __init__ again, not setattr
        return (Analyzer, self.settings())

    @property
    def keeps_every_token(self) -> bool:
        """No token is dropped (stemming only maps them): a record's length is then its
        number of tokens."""
        return not self.stopwords and self.min_token_length == 1 and (
            self.max_token_length is None)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_options(
        cls,
        stopwords: str | None = None,
        stem: bool = False,
        min_token_length: int = 1,
        max_token_length: int | None = None,
        positions: bool = True,
        store_text: bool = False,
    ) -> Analyzer:
        """Build from CLI-style options; ``stopwords`` is ``"english"`` or a file path."""
        words: FrozenSet[str] = frozenset()
        if stopwords == "english":
            words = ENGLISH_STOPWORDS
        elif stopwords:
            words = load_stopwords(stopwords)
        return cls(words, stopwords, stem, min_token_length, max_token_length, positions,
                   store_text)

    def to_manifest(self) -> dict:
        return {
            "tokenizer": "lower+isalnum-runs",
            "stopwords": self.stopwords_name,
            "stopword_list": sorted(self.stopwords) if self.stopwords_name not in (
                None, "english") else None,
            "stem": "snowball-english" if self.stem else None,
            "min_token_length": self.min_token_length,
            "max_token_length": self.max_token_length,
            "positions": self.positions,
            "store_text": self.store_text,
        }

    @classmethod
    def from_manifest(cls, d: dict) -> Analyzer:
        name = d.get("stopwords")
        if name == "english":
            words = ENGLISH_STOPWORDS
        else:
            words = frozenset(d.get("stopword_list") or ())
        return cls(
            words, name, bool(d.get("stem")), int(d.get("min_token_length", 1)),
            d.get("max_token_length"), bool(d.get("positions", True)),
            bool(d.get("store_text", False)),
        )

    def to_args(self) -> List[str]:
        """The streaming scripts' flags that reproduce this analyzer."""
        args: List[str] = []
        if self.stopwords_name:
            args += ["--stopwords", self.stopwords_name]
        if self.stem:
            args.append("--stem")
        if self.min_token_length != 1:
            args += ["--min-token-length", str(self.min_token_length)]
        if self.max_token_length is not None:
            args += ["--max-token-length", str(self.max_token_length)]
        if not self.positions:
            args.append("--no-positions")
        if self.store_text:
            args.append("--store-text")
        return args

    # -- analysis -----------------------------------------------------------------
    def term_positions(self, text: str) -> Dict[str, List[int]]:
        """Map each term of ``text`` to its ascending positions."""
        return _make_term_positions(self)(text)  # type: ignore[return-value]

    def term_position_texts(self, text: str) -> Dict[str, List[str]]:
        """``term_positions`` with each position as its decimal string."""
        return _make_term_positions(self, True)(text)

    def term_position_texts_function(self) -> Callable[[str], Dict[str, List[str]]]:
        """``term_position_texts`` compiled once, for callers that analyze record after
        record (looking the analyzer up per call costs as much as a short record)."""
        return _make_term_positions(self, True)

    def grouping_function(self) -> Callable[[List[str]], Grouped]:
        """``term_position_texts`` of a text already split by ``token_lists`` (the
        analyzer's filters applied), except that a term seen once maps to its position
        as text itself, not to a list of it: the streaming mapper's grouping."""
        return _make_grouper(self, True, singles=True)

    def terms(self, text: str) -> List[str]:
        """The terms of a query string, in order, duplicates kept."""
        return [t for t, _ in analyze_pairs(self, text)]


def load_stopwords(path: str) -> FrozenSet[str]:
    """One word per line; ``#`` starts a comment. Words are lowercased."""
    with open(path, encoding="utf-8") as f:
        return frozenset(
            w for w in (line.split("#", 1)[0].strip().lower() for line in f) if w)


def add_analyzer_arguments(parser) -> None:  # argparse.ArgumentParser; untyped for 3.9 nodes
    """The analyzer flags, shared by the CLI and the streaming scripts."""
    g = parser.add_argument_group("analyzer")
    g.add_argument("--stopwords", metavar="english|PATH",
                   help="drop stopwords: Lucene's English list, or one word per line from PATH")
    g.add_argument("--stem", action="store_true", help="Snowball English stemming")
    g.add_argument("--min-token-length", type=int, default=1, metavar="N",
                   help="drop tokens shorter than N characters (default 1)")
    g.add_argument("--max-token-length", type=int, default=None, metavar="N",
                   help="drop tokens longer than N characters (default: no limit)")
    g.add_argument("--no-positions", dest="positions", action="store_false",
                   help="index term frequencies only, no positions (smaller index)")
    g.add_argument("--store-text", action="store_true",
                   help="keep each document's text (compressed) in the index, for "
                        "search --snippets")


def analyzer_from_args(args) -> Analyzer:
    return Analyzer.from_options(args.stopwords, args.stem, args.min_token_length,
                                 args.max_token_length, args.positions,
                                 getattr(args, "store_text", False))


# (analyzer, positions as text, takes tokens, singles) -> the compiled analyzer
_CACHE: Dict[Tuple[Analyzer, bool, bool, bool], Callable[..., Dict[str, list]]] = {}
# Positions as text, made once: the streaming mapper writes them, so str(i) per token
# would be its largest cost after the tokenizer. Made as far as the longest record
# needs (up to _POS_TEXT_MAX), not at import: all of them cost a task's start ~10 ms.
_POS_TEXT: List[str] = []
_POS_TEXT_MAX = 1 << 14

# ASCII text needs no regex: there ``str.isalnum()`` holds for letters and digits only
# and ``lower()`` maps A-Z to a-z, so its tokens are the words left when every other
# character becomes a space. A newline stays, to keep the records of a block apart.
_ASCII_TOKENS = str.maketrans({c: chr(c).lower() if chr(c).isalnum() or c == 10 else " "
                               for c in range(128)})


_JOIN_CHARS = 1 << 20  # texts tokenized at once up to this size (their tokens are held)


def token_lists(texts: Sequence[str]) -> Iterable[List[str]]:
    """The default tokenizer's tokens of each text, before any filter. ASCII text (most
    text, and a constant-time test) by ``translate`` and ``split``, 3x cheaper than the
    regex: a block of texts at once up to ``_JOIN_CHARS``, else text by text, lazily."""
    if texts and sum(map(len, texts)) <= _JOIN_CHARS:
        joined = "\n".join(texts)
        if joined.isascii():
            lines = joined.translate(_ASCII_TOKENS).split("\n")
            if len(lines) == len(texts):  # else a text held a newline
                return list(map(str.split, lines))
    return map(_tokens, texts)


def _tokens(text: str) -> List[str]:
    if text.isascii():  # a newline is a separator here too, as for the regex
        return text.translate(_ASCII_TOKENS).split()
    return TOKEN_RE.findall(text.lower())


def _int_positions(n: int) -> Sequence[int]:
    return range(n)


def _text_positions(n: int) -> Sequence[str]:
    """The positions 0 .. n - 1 as text (a longer list: the caller zips it)."""
    global _POS_TEXT
    table = _POS_TEXT
    if n <= len(table):
        return table
    if n > _POS_TEXT_MAX:
        return list(map(str, range(n)))
    # a new, longer table (never one grown in place, which another thread may be reading)
    table = _POS_TEXT = list(map(str, range(min(max(n, 2 * len(table), 256), _POS_TEXT_MAX))))
    return table


def _group_lists(positions: Sequence, toks: Sequence[str]) -> Dict[str, list]:
    """Each token mapped to its positions (the ``zip``'s pairs, in order)."""
    out: Dict[str, list] = {}
    for i, tok in zip(positions, toks):
        if tok in out:  # `in` and `[]` are specialized bytecodes; get() a call
            out[tok].append(i)
        else:
            out[tok] = [i]
    return out


def _group_singles(positions: Sequence[str], toks: Sequence[str]) -> Grouped:
    """``_group_lists`` with a term seen once mapped to its position itself, not a list
    of it: most lines the streaming mapper writes have tf 1 (83 % of them on real
    text), and a list made, joined and freed for each cost it a sixth of its CPU."""
    out: Grouped = {}
    for i, tok in zip(positions, toks):
        if tok in out:
            ps = out[tok]
            if ps.__class__ is list:
                ps.append(i)
            else:
                out[tok] = [ps, i]  # type: ignore[list-item]
        else:
            out[tok] = i
    return out


def _token_filter(a: Analyzer, numbers: Callable[[int], Sequence]
                  ) -> Callable[[List[str]], Tuple[list, List[str]]] | None:
    """The analyzer's filters and stemming as one function of a record's tokens: the
    positions and the terms it keeps (None when it keeps every token as it is)."""
    if a.keeps_every_token and not a.stem:
        return None
    stem = None
    if a.stem:
        from .stemmer import make_stemmer

        stem = make_stemmer()
    stop = a.stopwords
    lo = a.min_token_length
    hi = a.max_token_length if a.max_token_length is not None else 1 << 30

    def keep(toks: List[str]) -> Tuple[list, List[str]]:
        positions: list = []
        kept: List[str] = []
        for i, tok in zip(numbers(len(toks)), toks):
            if lo <= len(tok) <= hi and tok not in stop:
                positions.append(i)
                kept.append(tok if stem is None else stem(tok))
        return positions, kept
    return keep


def _make_grouper(a: Analyzer, as_text: bool = False, singles: bool = False
                  ) -> Callable[[List[str]], Dict[str, list]]:
    """Compile the analyzer's filters and grouping into one closure over a record's
    tokens (the hot loop of every runner). With ``as_text`` the positions are decimal
    strings (what the streaming mapper writes); with ``singles`` a term seen once maps
    to its position rather than a list (``_group_singles``)."""
    key = (a, as_text, True, singles)
    fn = _CACHE.get(key)
    if fn is not None:
        return fn
    numbers = _text_positions if as_text else _int_positions
    group = _group_singles if singles else _group_lists
    keep = _token_filter(a, numbers)
    if keep is None:
        def fn(toks: List[str]) -> Dict[str, list]:
            return group(numbers(len(toks)), toks)  # type: ignore[return-value]
    else:
        def fn(toks: List[str]) -> Dict[str, list]:
            return group(*keep(toks))  # type: ignore[return-value]
    _CACHE[key] = fn
    return fn


def _make_term_positions(a: Analyzer, as_text: bool = False
                         ) -> Callable[[str], Dict[str, list]]:
    """The analyzer as one function of a text: the regex over the lowered text, then
    ``_make_grouper``'s closure."""
    fn = _CACHE.get((a, as_text, False, False))
    if fn is None:
        group = _make_grouper(a, as_text)
        findall = TOKEN_RE.findall

        def fn(text: str) -> Dict[str, list]:
            return group(findall(text.lower()))
        _CACHE[(a, as_text, False, False)] = fn
    return fn


def analyze_pairs(a: Analyzer, text: str) -> Sequence[Tuple[str, int]]:
    """(term, position) pairs in token order; for tests and brute-force references."""
    return sorted(((t, p) for t, ps in a.term_positions(text).items() for p in ps),
                  key=lambda tp: tp[1])
