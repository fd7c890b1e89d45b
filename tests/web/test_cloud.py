"""The site over a cloud index read in place (S3 on moto's server): the same answers as
over the local directory it was published from, stored text and terms included."""

from __future__ import annotations

from invindex.remote import publish_index
from invindex.search.source import IndexDirSource
from invindex.web.site import SearchSite, install

from ..storage.conftest import new_bucket, s3, s3_emulator  # noqa: F401  (fixtures)


def test_cloud_index_served_in_place(s3, indexes, client):  # noqa: F811
    uri = f"{new_bucket('s3')}/text"
    publish_index(indexes["text"], uri)
    urls = ["/api/search?q=light+darkness&k=30", "/api/search?q=%22there+be+light%22",
            "/api/terms/darkness", "/healthz"]
    install(SearchSite(IndexDirSource(str(indexes["text"])), "local"))
    local = [client.get(u).json() for u in urls]
    install(SearchSite(IndexDirSource(uri), "cloud"))
    cloud = [client.get(u).json() for u in urls]
    assert [{k: v for k, v in d.items() if k != "took_ms"} for d in cloud] == \
        [{k: v for k, v in d.items() if k != "took_ms"} for d in local]
    assert any(h["snippet"] for h in cloud[0]["hits"])
    doc = client.get("/docs/genesis")
    assert doc.status_code == 200 and "Let there be light" in doc.content.decode()
