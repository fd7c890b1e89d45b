"""Django settings, safe by default, built for one process (``settings.configure``).

No database, no sessions, no admin: the site only reads an index. ``DEBUG`` is off
(errors never show a stack trace), ``ALLOWED_HOSTS`` is the bind address plus what
``--allowed-host`` adds, the secret key is fresh per process unless
``INVINDEX_SECRET_KEY`` is set (nothing is signed today; Django wants one).
Security headers: ``SecurityMiddleware`` (nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy), ``XFrameOptionsMiddleware`` (DENY) and ours (CSP).
"""

from __future__ import annotations

import os
import secrets
from typing import Any, Dict, Iterable, List

import django
from django.conf import settings

LOOPBACK_NAMES = {"127.0.0.1": ["localhost"], "::1": ["localhost"], "localhost": ["127.0.0.1"]}


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> List[str]:
    """The Host headers to accept: the bind address (and its loopback aliases), plus
    ``extra``. A wildcard bind (0.0.0.0, ::) names no host: add yours with
    ``--allowed-host``."""
    hosts = [] if bind in ("0.0.0.0", "::", "") else [bind, *LOOPBACK_NAMES.get(bind, [])]
    hosts = [f"[{h}]" if ":" in h and not h.startswith("[") else h for h in hosts]
    return list(dict.fromkeys([*hosts, *extra]))


def build(hosts: List[str], secret_key: str | None = None) -> Dict[str, Any]:
    return {
        "DEBUG": False,
        "ALLOWED_HOSTS": hosts,
        "SECRET_KEY": secret_key or os.environ.get("INVINDEX_SECRET_KEY")
        or secrets.token_urlsafe(50),
        "ROOT_URLCONF": "invindex.web.urls",
        "INSTALLED_APPS": ["invindex.web"],
        "DATABASES": {},
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.middleware.common.CommonMiddleware",  # checks the Host header
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "invindex.web.middleware.security_headers",
        ],
        "TEMPLATES": [{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": [], "autoescape": True},
        }],
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "USE_TZ": True,
        "USE_I18N": False,
        "APPEND_SLASH": False,
        "DATA_UPLOAD_MAX_MEMORY_SIZE": 64 * 1024,
        "DATA_UPLOAD_MAX_NUMBER_FIELDS": 20,
        "LOGGING_CONFIG": None,  # keep invindex's logging; errors go to the django.request logger
    }


def setup(hosts: List[str], secret_key: str | None = None) -> None:
    """Configure Django once per process (a second call keeps the first settings)."""
    if not settings.configured:
        settings.configure(**build(hosts, secret_key))
        django.setup()
