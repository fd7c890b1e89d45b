"""The site's URLs (the root URLconf: one app)."""

from django.urls import path

from . import api, views

urlpatterns = [
    path("", views.search, name="search"),
    path("help", views.help_page, name="help"),
    path("index", views.index, name="index"),
    path("terms/<str:term>", views.term, name="term"),
    path("docs/<path:doc_id>", views.document, name="document"),
    path("plots/<slug:name>.png", views.plot, name="plot"),
    path("style.css", views.stylesheet, name="style"),
    path("api/search", api.search, name="api-search"),
    path("api/terms/<str:term>", api.term, name="api-term"),
    path("healthz", api.healthz, name="healthz"),
]

handler400 = "invindex.web.errors.bad_request"
handler403 = "invindex.web.errors.permission_denied"
handler404 = "invindex.web.errors.not_found"
handler500 = "invindex.web.errors.server_error"
