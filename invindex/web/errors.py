"""Error pages: JSON under ``/api/`` and for ``/healthz``, a small page elsewhere; never a
stack trace (DEBUG is off, and these handlers render nothing from the exception)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

MESSAGES = {400: "bad request", 403: "forbidden", 404: "not found",
            500: "internal error"}


def _respond(request: HttpRequest, status: int) -> HttpResponse:
    message = MESSAGES[status]
    if request.path.startswith(("/api/", "/healthz")):
        return JsonResponse({"error": message}, status=status)
    try:
        body = render_to_string("web/error.html", {"message": message, "status": status})
    except Exception:  # an error page must not fail in turn
        body = message
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _respond(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _respond(request, 403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _respond(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _respond(request, 500)
