"""The HTML pages: search, help, term, document, index (and the stylesheet, plots)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from . import plots
from .highlight import fragment_html
from .params import page_param, text_param
from .site import MAX_QUERY_CHARS, TERM_PAGE, BadRequest, current

PAGE_SIZE = 10


def _page_link(**params: object) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    site = current()
    q = text_param(request, "q")
    context = {"q": q, "site": site, "max_query": MAX_QUERY_CHARS}
    if not q.strip():
        return render(request, "web/search.html", context)
    try:
        page_no = page_param(request)
        page = site.search(q, PAGE_SIZE, (page_no - 1) * PAGE_SIZE)
    except BadRequest as e:
        return render(request, "web/search.html", {**context, "error": str(e)}, status=400)
    context.update(
        page=page, page_no=page_no, last_rank=page.offset + len(page.hits),
        doc_query=urlencode({"q": q}),
        hits=[(h, fragment_html(h.fragment) if h.fragment else None) for h in page.hits],
        prev_link=_page_link(q=q, page=page_no - 1) if page_no > 1 else None,
        next_link=_page_link(q=q, page=page_no + 1) if page.has_next else None)
    return render(request, "web/search.html", context)


@require_safe
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/help.html", {"site": current(), "max_query": MAX_QUERY_CHARS})


@require_safe
def term(request: HttpRequest, term: str) -> HttpResponse:
    site = current()
    try:
        page_no = page_param(request)
        tp = site.term(term, offset=(page_no - 1) * TERM_PAGE, limit=TERM_PAGE)
        analyzed = site.analyzed(term) if tp.df == 0 else []
    except BadRequest as e:
        return render(request, "web/error.html", {"site": site, "message": str(e)},
                      status=400)
    if tp.df == 0:
        if len(analyzed) == 1 and analyzed[0] != term:
            return redirect("term", term=analyzed[0])
        raise Http404("no such term in the index")
    return render(request, "web/term.html", {
        "site": site, "tp": tp, "page_no": page_no, "last": tp.offset + len(tp.postings),
        "prev_link": _page_link(page=page_no - 1) if page_no > 1 else None,
        "next_link": _page_link(page=page_no + 1) if tp.has_next else None})


@require_safe
def document(request: HttpRequest, doc_id: str) -> HttpResponse:
    site = current()
    try:
        found = site.document(doc_id)
    except BadRequest as e:
        return render(request, "web/error.html", {"site": site, "message": str(e)},
                      status=400)
    if found is None:
        raise Http404("no such document in the index")
    length, text = found
    q = text_param(request, "q")
    marked = site.marked(text, q) if text and q.strip() else None
    return render(request, "web/document.html", {
        "site": site, "doc_id": doc_id, "length": length, "text": text, "q": q,
        "marked": fragment_html(marked) if marked and marked.marks else None})


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    site = current()
    o = site.overview()
    return render(request, "web/index.html", {
        "site": site, "o": o, "plots": plots.available(site), "stats": plots.stats_of(site),
        "manifest_json": json.dumps(o["manifest"], indent=2, ensure_ascii=False)})


@require_safe
def plot(request: HttpRequest, name: str) -> HttpResponse:
    png = plots.png(current(), name)
    if png is None:
        raise Http404("no such plot")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "max-age=3600"
    return response


@require_safe
def stylesheet(request: HttpRequest) -> HttpResponse:
    response = render(request, "web/style.css", content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "max-age=3600"
    return response
