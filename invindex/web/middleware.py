"""Headers Django's own middleware does not set: a strict Content-Security-Policy
(no script at all, styles and images from this origin only, forms post here only, no
framing) and a Permissions-Policy that turns off what a search page never uses."""

from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def security_headers(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", PERMISSIONS)
        return response

    return middleware
