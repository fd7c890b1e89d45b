"""Reading a request's query parameters, refusing bad ones with ``BadRequest``."""

from __future__ import annotations

from django.http import HttpRequest

from .site import BadRequest


def int_param(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if len(raw) > 9 or not raw.strip().lstrip("-").isdigit():
        raise BadRequest(f"{name} must be a whole number")
    return int(raw)


def text_param(request: HttpRequest, name: str) -> str:
    return request.GET.get(name, "")


def page_param(request: HttpRequest) -> int:
    """The 1-based ``page`` parameter (default 1)."""
    page = int_param(request, "page", 1)
    if page < 1:
        raise BadRequest("page must be 1 or more")
    return page
