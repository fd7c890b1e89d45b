"""Snowball English stemming, by the ``snowballstemmer`` package (pure Python, BSD-3):
the official Snowball algorithms compiled to Python, rather than a port of our own.

On cluster nodes it travels with the job inside ``invindex.zip`` (see
``invindex/runners/package.py``), so a node needs nothing installed; every runner
therefore stems with the same version as the machine that started the build.
A ``snowballstemmer`` stemmer object keeps the word being stemmed in its own fields,
so calls on one object are serialized (the search site analyzes queries in threads).
"""

from __future__ import annotations

import threading
from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs every streaming task's start
    from typing import Callable

try:
    from snowballstemmer.english_stemmer import EnglishStemmer
except ImportError:  # a bare python3 running the checkout's scripts by hand
    EnglishStemmer = None

MISSING = ("--stem needs the snowballstemmer package: `pip install snowballstemmer`, or "
           "run the mapper.py that `invindex hadoop-command` writes (its invindex.zip "
           "carries it)")


def _locked_stemmer() -> Callable[[str], str]:
    if EnglishStemmer is None:
        raise SystemExit(MISSING)
    # The class itself, not snowballstemmer.stemmer("english"): that returns PyStemmer's
    # C stemmer when PyStemmer is installed, whose Snowball version may differ from the
    # pure-Python code the nodes run, and every runner must give the same stems.
    stemmer = EnglishStemmer()
    lock = threading.Lock()

    def stem_word(word: str) -> str:
        with lock:
            return stemmer.stemWord(word)

    return stem_word


def stem(word: str) -> str:
    """The Snowball English stem of one lowercased token."""
    return _shared()(word)


@lru_cache(maxsize=1)
def _shared() -> Callable[[str], str]:
    return _locked_stemmer()


def make_stemmer(cache_size: int = 100_000) -> Callable[[str], str]:
    """A stemmer of its own behind an LRU cache of ``cache_size`` words.

    Token frequencies are Zipfian, so a modest cache turns most calls into a dict
    lookup. Each call builds an independent cache (one per worker process or job).
    """
    return lru_cache(maxsize=cache_size)(_locked_stemmer())
