"""Lazy imports of the cloud SDKs: invindex works without them, and says which extra to add."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import InvindexError

EXTRA_HINT = "pip install 'invindex[provision]'"


def need(module: str, what: str) -> ModuleType:
    """Import ``module`` or fail with one line naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise InvindexError(f"{what} needs the Python package {module.split('.')[0]!r} "
                            f"({e.name} is missing): {EXTRA_HINT}") from None
