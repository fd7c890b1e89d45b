"""The request plumbing every GCP handler shares (``gcp.py``, ``gcp_sql.py``): a read that
is None when the resource is not there, whichever client family made it, and the
ownership check on what a read found."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ..errors import InvindexError

T = TypeVar("T")
TIMEOUT = 1800  # seconds a long-running operation may take


def not_found(e: BaseException) -> bool:
    """A 404 from google-api-core (``NotFound``: the google-cloud-* clients) or from
    googleapiclient (``HttpError`` with ``resp.status``: the Cloud SQL Admin client)."""
    return (getattr(e, "code", None) == 404 or type(e).__name__ == "NotFound"
            or getattr(getattr(e, "resp", None), "status", None) == 404)


def get_or_none(request: Callable[[], T]) -> T | None:
    """``request()``, or None when what it reads does not exist."""
    try:
        return request()
    except Exception as e:
        if not_found(e):
            return None
        raise


def found_ours(found: Any, ours: Callable[[Any], bool], kind: str, name: str) -> bool:
    """Whether a read found the resource (False: create it); a resource by that name that
    ``ours`` does not recognize as this cluster's is an error, never adopted."""
    if found is None:
        return False
    if not ours(found):
        raise InvindexError(f"a {kind} named {name} exists but is not labelled for this "
                            "cluster; rename the cluster or remove it")
    return True
