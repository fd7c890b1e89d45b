"""One storage interface for local disk, S3, GCS and Azure Blob, chosen by URI scheme.

    store, key = locate("s3://bucket/corpus/docs.tsv")
    store.get_file(key, "docs.tsv")             # verified, temp name + rename
    copy("gs://b/index/", "az://c/index/", recursive=True)

Backends register by scheme (as fsspec's do by protocol) and import their SDK only
when first used, so ``invindex`` runs without the cloud extras and says which extra
to install when one is missing. See ``base.Store`` for the primitives.
"""

from __future__ import annotations

import importlib
from typing import Dict, Tuple

from .base import ObjectInfo, RangedReader, Settings, Store
from .errors import (
    AccessDenied,
    AuthError,
    BucketNotFound,
    IntegrityError,
    MissingExtra,
    ObjectNotFound,
    StorageError,
)
from .uri import URI, parse_uri

# scheme -> "module:Class", imported lazily
BACKENDS: Dict[str, str] = {
    "file": "local:LocalStore",
    "s3": "s3:S3Store",
    "gs": "gcs:GCSStore",
    "az": "azure:AzureStore",
}


def is_remote(uri: str) -> bool:
    """True for s3://, gs://, az:// (and their aliases); False for paths and file://."""
    return not parse_uri(uri).is_local


def get_store(uri: URI | str, settings: Settings | None = None, **options: object) -> Store:
    """The Store for the bucket (container) of ``uri``.

    ``options`` are names only, never secrets: ``profile`` (AWS), ``project`` (GCP),
    ``account`` (Azure storage account); credentials come from each SDK's default chain.
    """
    u = parse_uri(uri) if isinstance(uri, str) else uri
    module, _, cls = BACKENDS[u.scheme].partition(":")
    backend = getattr(importlib.import_module(f".{module}", __name__), cls)
    return backend(u, settings, **{k: v for k, v in options.items() if v is not None})


def locate(uri: str, settings: Settings | None = None, **options: object) -> Tuple[Store, str]:
    """``(store, key)`` for a URI: the key is the object key, or for local files the path."""
    u = parse_uri(uri)
    return get_store(u, settings, **options), u.key


__all__ = ["AccessDenied", "AuthError", "BACKENDS", "BucketNotFound", "IntegrityError",
           "MissingExtra", "ObjectInfo", "ObjectNotFound", "RangedReader", "Settings",
           "StorageError", "Store", "URI", "get_store", "is_remote", "locate", "parse_uri"]
