"""The site over a serving store (SQLite, published by ``invindex publish``): the same
answers as over the index directory, stored text, terms and statistics included, and
the database unchanged by serving."""

from __future__ import annotations

from invindex.stores import open_source
from invindex.web.site import SearchSite, install

from .corpus import tree_digest


def test_sqlite_store_served(cli, indexes, client, tmp_path):
    store = f"sqlite://{tmp_path / 'store.db'}"
    r = cli("publish", str(indexes["text"]), store)
    assert r.code == 0, r.err
    urls = ["/api/search?q=light+darkness&k=30", "/api/search?q=%22there+be+light%22",
            "/api/search?q=light&k=5&offset=20", "/api/terms/darkness", "/healthz"]
    install(SearchSite(open_source(str(indexes["text"])), "local"))
    local = [client.get(u).json() for u in urls]
    before = tree_digest(tmp_path)
    install(SearchSite(open_source(store), "store"))
    served = [client.get(u).json() for u in urls]
    assert [{k: v for k, v in d.items() if k != "took_ms"} for d in served] == \
        [{k: v for k, v in d.items() if k != "took_ms"} for d in local]
    assert any(h["snippet"] for h in served[0]["hits"])
    doc = client.get("/docs/genesis")
    assert doc.status_code == 200 and "Let there be light" in doc.content.decode()
    index = client.get("/index").content.decode()
    assert 'href="/terms/light">light</a> (23)' in index
    # the database unchanged (SQLite's WAL mode adds -wal/-shm beside it even for a
    # read-only connection: they are SQLite's own, empty of changes)
    assert tree_digest(tmp_path)["store.db"] == before["store.db"]
