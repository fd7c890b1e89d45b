"""Every page and API view through Django's test client, over real indexes built by
``invindex build``: results, pagination, escaping of hostile documents and queries,
400s as JSON without a stack trace, security headers, read-only access."""

from __future__ import annotations

import json
import socket
from urllib.parse import quote

import pytest

from invindex.web import settings
from invindex.web.site import MAX_QUERY_CHARS, SearchSite, install

from .corpus import HOSTILE_ID, ODD_ID, XSS, tree_digest

RAW = ("<script>", "<img", "<b>")


def body(response) -> str:
    return response.content.decode("utf-8")


def assert_no_raw_html(text: str) -> None:
    for raw in RAW:
        assert raw not in text, raw


def test_search_page_results_count_snippets_and_pages(client, site):
    r = client.get("/", {"q": "light"})
    assert r.status_code == 200
    html = body(r)
    assert "23 documents match" in html and "showing 1–10" in html
    assert html.count('class="hit"') == 10
    assert '<mark>light</mark>' in html  # snippet with the match marked
    assert 'rel="next" href="?q=light&amp;page=2"' in html and 'rel="prev"' not in html
    r3 = body(client.get("/", {"q": "light", "page": "3"}))
    assert "showing 21–23" in r3 and r3.count('class="hit"') == 3
    assert 'rel="next"' not in r3 and 'href="?q=light&amp;page=2"' in r3
    home = body(client.get("/"))
    assert 'name="q"' in home and "25 documents" in home and 'class="hit"' not in home


def test_hostile_documents_and_queries_come_back_escaped(client, site):
    html = body(client.get("/", {"q": f"light darkness {XSS}"}))
    assert_no_raw_html(html)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html  # the query, shown
    assert "&lt;<mark>script</mark>&gt;" in html  # the document's text, matches marked
    html = body(client.get("/", {"q": "darkness"}))
    assert_no_raw_html(html)
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "evil&lt;script&gt;&quot;&amp;&#x27;/x" in html  # the doc_id as text
    assert 'href="/docs/evil%3Cscript%3E%22&amp;&#x27;/x?q=darkness"' in html  # its link
    doc = client.get("/docs/" + quote(HOSTILE_ID))
    assert doc.status_code == 200
    assert_no_raw_html(body(doc))
    api = client.get("/api/search", {"q": f"darkness {XSS}"}).json()
    assert api["query"] == f"darkness {XSS}"  # JSON is data; the snippet is safe HTML
    snippets = " ".join(h["snippet"] for h in api["hits"])
    assert_no_raw_html(snippets.replace("<mark>", "").replace("</mark>", ""))
    assert "&lt;<mark>script</mark>&gt;" in snippets and "<mark>darkness</mark>" in snippets


def test_api_scores_are_exactly_invindex_search(client, site, cli, indexes):
    for query in ["light", "light darkness", "+light -filler", '"there be light"',
                  "(god OR hostile) AND light", "nothingmatches"]:
        expected = json.loads(cli("search", str(indexes["text"]), query, "-k", "30",
                                  "--format", "json").out)
        got = client.get("/api/search", {"q": query, "k": "30"}).json()
        assert set(got) == {"query", "total", "took_ms", "hits"}
        assert got["total"] == expected["total"]
        assert [(h["doc_id"], h["score"]) for h in got["hits"]] == \
            [(h["doc_id"], h["score"]) for h in expected["hits"]]
        assert all(set(h) == {"doc_id", "score", "snippet"} for h in got["hits"])
        page2 = client.get("/api/search", {"q": query, "k": "5", "offset": "5"}).json()
        assert page2["hits"] == got["hits"][5:10]


@pytest.mark.parametrize("params, message", [
    ({}, "missing parameter q"),
    ({"q": "light", "k": "0"}, "k must be between 1 and 100"),
    ({"q": "light", "k": "101"}, "k must be between 1 and 100"),
    ({"q": "light", "k": "ten"}, "k must be a whole number"),
    ({"q": "light", "offset": "-1"}, "offset must be 0 or more"),
    ({"q": "light", "offset": "9995", "k": "10"}, "offset + k must be at most 10000"),
    ({"q": "x" * (MAX_QUERY_CHARS + 1)}, f"query longer than {MAX_QUERY_CHARS} characters"),
    ({"q": '"light'}, "unterminated phrase"),
    ({"q": "light AND"}, ""),
])
def test_api_bad_requests_are_json_400(client, site, params, message):
    r = client.get("/api/search", params)
    assert r.status_code == 400 and r["Content-Type"] == "application/json"
    assert message in r.json()["error"]
    assert "Traceback" not in body(r) and 'File "' not in body(r)


def test_phrase_on_an_index_without_positions_is_400(client, bare_site):
    r = client.get("/api/search", {"q": '"there be light"'})
    assert r.status_code == 400 and "positions" in r.json()["error"]
    page = client.get("/", {"q": '"there be light"'})
    assert page.status_code == 400 and "positions" in body(page)
    ok = client.get("/api/search", {"q": "light"}).json()
    assert ok["total"] == 23 and all(h["snippet"] is None for h in ok["hits"])


def test_search_page_bad_request_is_a_page(client, site):
    r = client.get("/", {"q": f'"{XSS}'})
    assert r.status_code == 400 and 'class="error"' in body(r)
    assert_no_raw_html(body(r))
    assert client.get("/", {"q": "light", "page": "0"}).status_code == 400
    assert client.get("/", {"q": "light", "page": "x"}).status_code == 400


def test_term_page_and_api(client, site):
    r = client.get("/terms/light")
    html = body(r)
    assert r.status_code == 200 and "In 23 documents (df)" in html
    assert "showing postings 1–23" in html and "<td>1</td>" in html
    api = client.get("/api/terms/darkness").json()
    assert api["df"] == 2 and api["term"] == "darkness"
    assert sorted(p[0] for p in api["postings"]) == sorted([HOSTILE_ID, "html"])
    hostile = next(p for p in api["postings"] if p[0] == HOSTILE_ID)
    assert hostile[1:] == [2, [3, 4]]  # tf and positions
    page = client.get("/api/terms/light", {"offset": "20", "limit": "2"}).json()
    assert len(page["postings"]) == 2 and page["df"] == 23
    paged = body(client.get("/terms/filler", {"page": "1"}))
    assert "In 19 documents" in paged  # one page of 50: no next link
    assert 'rel="next"' not in paged


def test_term_not_found_redirects_or_404(client, site):
    r = client.get("/terms/Light")
    assert r.status_code == 302 and r["Location"] == "/terms/light"
    missing = client.get("/terms/zebra")
    assert missing.status_code == 404 and "Not found" in body(missing)
    api = client.get("/api/terms/Zebra")
    assert api.status_code == 404 and api.json()["analyzed"] == ["zebra"]
    assert client.get("/api/terms/light", {"limit": "0"}).status_code == 400


def test_document_page(client, site):
    r = client.get("/docs/light/03")  # a doc_id with a slash
    assert r.status_code == 200 and "light number 3 filler filler filler" in body(r)
    assert "5 indexed tokens" in body(r) or "6 indexed tokens" in body(r)
    html = body(client.get("/docs/html"))
    assert_no_raw_html(html)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert client.get("/docs/nope").status_code == 404


def test_odd_doc_id_round_trips_through_its_link(client, site):
    html = body(client.get("/", {"q": "special"}))
    link = html.split('class="doc" href="')[1].split('"')[0]
    assert link == "/docs//q%3Fx%23y%25z%20%C3%A9%20%C3%BC+?q=special"
    assert client.get("/api/search", {"q": "special"}).json()["hits"][0]["doc_id"] == ODD_ID
    doc = client.get(link)
    assert doc.status_code == 200 and "<mark>special</mark> characters" in body(doc)


def test_document_page_marks_the_query(client, site):
    html = body(client.get("/docs/html", {"q": f"darkness script {XSS}"}))
    assert_no_raw_html(html)
    assert "&lt;<mark>script</mark>&gt;" in html and "<mark>darkness</mark>" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the whole text, not a snippet window
    plain = body(client.get("/docs/html", {"q": '"unterminated'}))  # shown unmarked
    assert "<mark>" not in plain and "&lt;b&gt;bold&lt;/b&gt;" in plain
    long = body(client.get("/docs/light/19", {"q": "light filler"}))
    assert long.count("<mark>filler</mark>") == 19  # every match, however long the text


def test_document_page_without_stored_text(client, bare_site):
    html = body(client.get("/docs/genesis"))
    assert "keeps no document text" in html


def test_index_help_and_health(client, site, indexes):
    html = body(client.get("/index"))
    assert "<th>documents</th><td>25</td>" in html and "store_text" in html
    assert "&quot;format_version&quot;: 2" in html
    assert "Query language" in body(client.get("/help"))
    assert client.get("/healthz").json() == {"status": "ok", "documents": 25}
    css = client.get("/style.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")


def test_security_headers_everywhere(client, site):
    for url in ["/", "/?q=light", "/api/search?q=light", "/healthz", "/docs/nope",
                "/api/search", "/help", "/index", "/terms/light"]:
        r = client.get(url)
        csp = r["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp  # no script may run at all
        assert r["X-Content-Type-Options"] == "nosniff"
        assert r["Referrer-Policy"] == "same-origin"
        assert r["X-Frame-Options"] == "DENY"


def test_methods_hosts_and_unknown_paths(client, site):
    assert client.post("/api/search", {"q": "light"}).status_code == 405
    assert client.head("/").status_code == 200
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.json() == {"error": "not found"}
    evil = client.get("/", HTTP_HOST="attacker.example")
    assert evil.status_code == 400 and "Traceback" not in body(evil)


class BrokenSource:
    """A source that fails inside a request: the answer must be a bare 500."""

    def __init__(self, real):
        self.manifest, self.analyzer = real.manifest, real.analyzer
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def postings(self, term):
        raise RuntimeError("secret internal detail /etc/passwd")

    term_arrays = postings  # what the searcher reads a term through


def test_server_errors_show_no_detail(client, site):
    install(SearchSite(BrokenSource(site.source), "broken"))
    from django.conf import settings as django_settings

    assert django_settings.DEBUG is False
    for url, kind in [("/api/search?q=light", "json"), ("/?q=light", "html"),
                      ("/terms/light", "html")]:
        r = client.get(url)
        assert r.status_code == 500
        assert "secret internal detail" not in body(r) and "Traceback" not in body(r)
        if kind == "json":
            assert r.json() == {"error": "internal error"}


def test_serving_writes_nothing(client, site, indexes):
    before = tree_digest(indexes["text"])
    for url in ["/?q=light", "/api/search?q=light+darkness", "/terms/light", "/docs/html",
                "/index", "/healthz"]:
        assert client.get(url).status_code == 200
    assert tree_digest(indexes["text"]) == before


def test_allowed_hosts_and_secret_key(monkeypatch):
    assert settings.allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost"]
    assert settings.allowed_hosts("::1", ["search.example"]) == \
        ["[::1]", "localhost", "search.example"]
    assert settings.allowed_hosts("0.0.0.0") == []
    assert settings.allowed_hosts("0.0.0.0", ["a.example"]) == ["a.example"]
    monkeypatch.delenv("INVINDEX_SECRET_KEY", raising=False)
    a, b = settings.build([])["SECRET_KEY"], settings.build([])["SECRET_KEY"]
    assert a != b and len(a) >= 50
    monkeypatch.setenv("INVINDEX_SECRET_KEY", "k" * 60)
    assert settings.build([])["SECRET_KEY"] == "k" * 60
    assert settings.build([])["DEBUG"] is False


def test_serve_command_errors(cli, indexes, tmp_path):
    r = cli("serve", str(tmp_path / "missing"), "--port", "0")
    assert r.code == 1 and r.err.startswith("invindex: error: no index at")
    r = cli("serve", str(indexes["text"]), "--port", "70000")
    assert r.code == 2 and "--port" in r.err
    r = cli("serve", str(indexes["text"]), "--workers", "0")
    assert r.code == 2 and "--workers" in r.err
    r = cli("serve", str(indexes["text"]), "--host", "0.0.0.0", "--port", "0")
    assert r.code == 2 and "--allowed-host" in r.err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = cli("serve", str(indexes["text"]), "--port", str(port))
    assert r.code == 1 and r.err == (f"invindex: error: cannot listen on "
                                     f"http://127.0.0.1:{port}/: Address already in use\n")


def test_index_page_stats_and_plot(client, site):
    html = body(client.get("/index"))
    assert 'href="/terms/light">light</a> (23)' in html  # top terms by df, linked
    assert '<img src="/plots/stats.png"' in html
    png = client.get("/plots/stats.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert client.get("/plots/other.png").status_code == 404


def test_term_page_pagination(client, site, monkeypatch):
    from invindex.web import views

    monkeypatch.setattr(views, "TERM_PAGE", 10)
    first = body(client.get("/terms/light"))
    assert "showing postings 1–10" in first and 'rel="next" href="?page=2"' in first
    last = body(client.get("/terms/light", {"page": "3"}))
    assert "showing postings 21–23" in last and 'rel="next"' not in last
    assert 'rel="prev" href="?page=2"' in last


def test_text_cache_is_bounded_and_keeps_the_latest():
    from invindex.web.site import TextCache

    loads = []
    cache = TextCache(max_chars=10)

    def load(doc_id):
        loads.append(doc_id)
        return {"a": "xxxx", "b": "yyyy", "c": "zzzz", "big": "w" * 11, "none": None}[doc_id]

    assert [cache.get(d, load) for d in ["a", "b", "a", "none", "none"]] == \
        ["xxxx", "yyyy", "xxxx", None, None]
    assert loads == ["a", "b", "none"]
    cache.get("c", load)  # 12 characters: "b", the least recently used, goes
    assert cache.get("a", load) == "xxxx" and cache.get("b", load) == "yyyy"
    assert loads == ["a", "b", "none", "c", "b"]
    assert cache.get("big", load) == "w" * 11 and cache.get("big", load) == "w" * 11
    assert loads.count("big") == 2  # larger than the whole cache: never kept
    assert cache._chars <= 10
