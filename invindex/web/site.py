"""``SearchSite``: what the pages and the API ask of an index, with the site's limits.

Everything here is a read of one ``IndexSource``; nothing renders HTML (that is the
templates' and ``highlight``'s job). The limits keep one request's cost bounded: a query
of at most ``MAX_QUERY_CHARS`` characters, at most ``MAX_K`` hits a page, and no page
past ``MAX_WINDOW`` hits (a deeper page costs a top-``offset + k`` search).
Every read of the source holds the site's lock: waitress serves requests from several
threads, and neither the searcher's term cache nor a store's connection (SQLite's, say)
may be used by two threads at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Sequence, Tuple

from ..errors import UsageError
from ..search.searcher import Searcher
from ..search.snippets import Highlight, highlight_of, spans
from ..search.source import IndexSource, Posting

MAX_QUERY_CHARS = 1000
MAX_K = 100
MAX_WINDOW = 10_000
TERM_PAGE = 50
SNIPPET_WIDTH = 200


class BadRequest(UsageError):
    """A request the site refuses (the views answer 400 with this message)."""


@dataclass(frozen=True)
class Fragment:
    """Part of a document's text with the matched tokens' ranges (offsets in ``text``)."""

    text: str
    marks: Tuple[Tuple[int, int], ...]
    cut_before: bool
    cut_after: bool


@dataclass
class SiteHit:
    rank: int
    doc_id: str
    score: float
    fragment: Fragment | None = None


@dataclass
class SearchPage:
    query: str
    total: int
    took_ms: float
    offset: int
    k: int
    hits: List[SiteHit] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return self.offset + self.k < min(self.total, MAX_WINDOW)


@dataclass
class TermPage:
    term: str
    df: int
    offset: int
    limit: int
    postings: Sequence[Posting]

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.df


def check_query(query: str) -> str:
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"query longer than {MAX_QUERY_CHARS} characters")
    if "\x00" in query:
        raise BadRequest("query contains a NUL character")
    return query


def check_window(offset: int, k: int, max_k: int = MAX_K) -> None:
    if not 1 <= k <= max_k:
        raise BadRequest(f"k must be between 1 and {max_k}")
    if offset < 0:
        raise BadRequest("offset must be 0 or more")
    if offset + k > MAX_WINDOW:
        raise BadRequest(f"offset + k must be at most {MAX_WINDOW}")


def fragment_of(text: str, wanted: Highlight | Sequence[str], source: IndexSource,
                width: int = SNIPPET_WIDTH) -> Fragment:
    """The snippet window of ``text`` around its best match (snippets.spans); with
    ``width`` at least five times the text's length, the whole text (spans starts its
    window up to width/5 before the best match)."""
    start, end, marks = spans(text, wanted, source.analyzer, width)
    base = text if len(text.lower()) == len(text) else text.lower()  # spans' offsets
    return Fragment(base[start:end], tuple((s - start, e - start) for s, e in marks),
                    start > 0, end < len(base))


class TextCache:
    """The stored texts last shown, up to ``max_chars`` characters in all: finding one in
    the index is a bisection of a part (ranged reads in the cloud), and a result page
    wants ten. The index does not change while it is served, so nothing goes stale."""

    def __init__(self, max_chars: int = 16_000_000) -> None:
        self.max_chars = max_chars
        self._texts: OrderedDict[str, str | None] = OrderedDict()
        self._chars = 0

    def get(self, doc_id: str, load: Callable[[str], str | None]) -> str | None:
        if doc_id in self._texts:
            self._texts.move_to_end(doc_id)
            return self._texts[doc_id]
        text = load(doc_id)
        size = len(text or "")
        if size <= self.max_chars:
            self._texts[doc_id] = text
            self._chars += size
            while self._chars > self.max_chars:
                _, old = self._texts.popitem(last=False)
                self._chars -= len(old or "")
        return text


class SearchSite:
    """One index source and its searcher, shared by every request."""

    def __init__(self, source: IndexSource, name: str) -> None:
        self.source = source
        self.name = name
        self.searcher = Searcher(source)
        self.lock = threading.RLock()  # held for every read of the source
        self.has_text = bool(source.analyzer.store_text)
        self.derived: Dict[str, Any] = {}  # computed once on demand (stats, plots)
        self.texts = TextCache()

    def search(self, query: str, k: int = 10, offset: int = 0) -> SearchPage:
        """Hits ``offset+1 .. offset+k`` of ``invindex search``'s ranking (same scores)."""
        check_query(query)
        check_window(offset, k)
        t0 = time.perf_counter()
        try:
            with self.lock:
                results = self.searcher.search(query, offset + k)
        except UsageError as e:  # a query that does not parse, a phrase without positions
            raise BadRequest(str(e)) from None
        hits = [SiteHit(offset + i, h.doc_id, h.score)
                for i, h in enumerate(results.hits[offset:], 1)]
        if self.has_text:
            for hit in hits:
                with self.lock:
                    text = self.texts.get(hit.doc_id, self.source.stored_text)
                if text is not None:
                    hit.fragment = fragment_of(text, results.highlight, self.source)
        took = (time.perf_counter() - t0) * 1000
        return SearchPage(query, results.total, took, offset, k, hits)

    def term(self, term: str, offset: int = 0, limit: int = TERM_PAGE) -> TermPage:
        """One page of a term's postings (the term as stored in the index)."""
        check_query(term)
        check_window(offset, limit, max_k=1000)
        with self.lock:
            postings = self.source.postings(term)
        return TermPage(term, len(postings), offset, limit, postings[offset:offset + limit])

    def analyzed(self, word: str) -> List[str]:
        """What the index's analyzer makes of ``word`` (a term page's fallback)."""
        return self.source.analyzer.terms(check_query(word))

    def document(self, doc_id: str) -> Tuple[int, str | None] | None:
        """``(length in tokens, stored text or None)``; None for an unknown doc_id."""
        check_query(doc_id)
        with self.lock:
            length = self.source.doc_length(doc_id)
            if length is None:
                return None
            return length, self.texts.get(doc_id, self.source.stored_text) \
                if self.has_text else None

    def marked(self, text: str, query: str) -> Fragment | None:
        """The whole ``text`` with ``query``'s terms marked; None for a query that does
        not parse (the document is shown unmarked)."""
        try:
            wanted = highlight_of(self.searcher.plan(check_query(query)))
        except UsageError:
            return None
        return fragment_of(text, wanted, self.source, width=5 * len(text) + 5)

    def documents(self) -> int:
        with self.lock:
            return self.source.documents()

    def overview(self) -> Dict[str, Any]:
        manifest = self.source.manifest
        with self.lock:
            documents, tokens = self.source.documents(), self.source.tokens()
        return {"name": self.name, "manifest": manifest, "counts": manifest.get("counts", {}),
                "analyzer": manifest.get("analyzer", {}), "documents": documents,
                "tokens": tokens}


_current: SearchSite | None = None


def install(site: SearchSite) -> None:
    """Make ``site`` the one the views answer from (one per process; tests swap it)."""
    global _current
    _current = site


def current() -> SearchSite:
    if _current is None:
        raise RuntimeError("no SearchSite installed (invindex.web.site.install)")
    return _current
