"""Serving stores, chosen by URI scheme, and the one way commands open what they read.

``open_reader(location)`` gives ``lookup`` (and ``stats``) an ``IndexReader`` for an
index directory or cloud prefix, or a store's reader for ``sqlite://``,
``postgresql://`` or ``dynamodb://``; ``open_source(location)`` wraps either in the
searcher's ``IndexDirSource`` (a store's in ``StoreSource``, which adds the binary
term arrays), so one searcher code path serves indexes and stores.
"""

from __future__ import annotations

import importlib
from typing import Any, Dict

from ..errors import UsageError

# Nothing from .base at import time: it needs numpy, and `lookup` on an index does not.

# scheme -> (module, class); a backend's SDK is imported only when its scheme is used.
BACKENDS: Dict[str, tuple] = {
    "sqlite": ("sqlite", "SqliteStore"),
    "postgresql": ("postgresql", "PostgresStore"),
    "postgres": ("postgresql", "PostgresStore"),
    "dynamodb": ("dynamodb", "DynamoStore"),
}


def is_store_uri(location: str) -> bool:
    scheme, sep, _ = str(location).partition("://")
    return bool(sep) and scheme in BACKENDS


def _module(name: str) -> Any:
    """One of this package's modules; without numpy (the search extra, which every store
    module needs) a one-line usage error saying what to install."""
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as e:
        if e.name != "numpy":
            raise
        raise UsageError("reading or writing a store needs numpy: "
                         "pip install 'invindex[search]'") from None


def parse_store_uri(uri: str, name: str | None = None, **params: Any) -> Any:
    """``uri``'s backend, target and index name (``name`` overrides ``?name=``)."""
    scheme = uri.partition("://")[0]
    if scheme not in BACKENDS:
        raise UsageError(f"{uri}: not a store URI (sqlite://, postgresql://, dynamodb://)")
    parsed = _module(BACKENDS[scheme][0]).parse(uri)
    if name:
        parsed.name = name
    _module("base").check_name(parsed.name)
    parsed.params.update({k: v for k, v in params.items() if v})
    return parsed


def open_store(uri: str, name: str | None = None, **params: Any) -> Any:
    """The ``Store`` (``.base``) for a store URI, its SDK imported now."""
    parsed = parse_store_uri(uri, name, **params)
    module_name, cls = BACKENDS[parsed.scheme]
    return getattr(_module(module_name), cls)(parsed)


def open_reader(location: str) -> Any:
    """An ``IndexReader`` (directory, cloud prefix) or a ``StoreReader`` (store URI)."""
    if is_store_uri(location):
        return open_store(location).reader()
    from ..index import IndexReader

    return IndexReader(location)


def open_source(location: str) -> Any:
    """The ``IndexSource`` that ``search`` (and ``serve``) read, for any location."""
    from ..search.source import IndexDirSource

    if is_store_uri(location):
        return _module("base").StoreSource(open_reader(location))
    return IndexDirSource(open_reader(location))


__all__ = ["is_store_uri", "open_reader", "open_source", "open_store", "parse_store_uri"]
