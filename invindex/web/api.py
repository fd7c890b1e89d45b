"""The JSON API: ``/api/search``, ``/api/terms/<term>``, ``/healthz``.

Scores are the searcher's floats, unrounded: exactly ``invindex search --format json``'s.
A snippet is HTML: the document's text escaped, matches in ``<mark>`` (as on the page),
so a client can insert it as markup safely; null without stored text.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from .highlight import fragment_html
from .params import int_param, text_param
from .site import TERM_PAGE, BadRequest, current


def error(message: str, status: int = 400, **extra: object) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


@require_safe
def search(request: HttpRequest) -> JsonResponse:
    if "q" not in request.GET:
        return error("missing parameter q")
    try:
        page = current().search(text_param(request, "q"), int_param(request, "k", 10),
                                int_param(request, "offset", 0))
    except BadRequest as e:
        return error(str(e))
    return JsonResponse({
        "query": page.query, "total": page.total, "took_ms": round(page.took_ms, 3),
        "hits": [{"doc_id": h.doc_id, "score": h.score,
                  "snippet": fragment_html(h.fragment) if h.fragment else None}
                 for h in page.hits]})


@require_safe
def term(request: HttpRequest, term: str) -> JsonResponse:
    site = current()
    try:
        tp = site.term(term, int_param(request, "offset", 0),
                       int_param(request, "limit", TERM_PAGE))
        if tp.df == 0:
            return error("no such term in the index", 404, term=term,
                         analyzed=site.analyzed(term))
    except BadRequest as e:
        return error(str(e))
    return JsonResponse({"term": tp.term, "df": tp.df, "offset": tp.offset,
                         "limit": tp.limit,
                         "postings": [[d, tf, list(ps)] for d, tf, ps in tp.postings]})


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "documents": current().documents()})
