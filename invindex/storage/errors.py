"""Storage failures a user can act on, each one line: ``invindex: error: <message>``.

Backends translate their SDK's exceptions into these so that the CLI, ``remote`` and
the tests see the same kinds whatever the cloud.
"""

from __future__ import annotations

from ..errors import InvindexError, NotFound


class StorageError(InvindexError):
    """A storage operation failed for a reason the user can fix or retry."""


class ObjectNotFound(NotFound):
    """No object (or local file) at that key."""


class BucketNotFound(NotFound):
    """The bucket or container does not exist."""


class AccessDenied(StorageError):
    """Authenticated, but not allowed (IAM policy, RBAC role, ACL)."""


class AuthError(StorageError):
    """No usable credentials, or the service rejected them."""


class IntegrityError(StorageError):
    """The bytes that arrived are not the bytes that were sent."""


class PreconditionFailed(StorageError):
    """A conditional write or delete found the object other than the caller expected:
    present when it was to be created, or another version than the one named."""


class ConditionsUnavailable(StorageError):
    """The service does not implement conditional writes (some S3-compatible stores)."""


class ServerCopyUnavailable(StorageError):
    """The service cannot copy this object by itself (it does not implement the call,
    or cannot read the source with the destination's credentials): copy through this
    machine instead."""


class MissingExtra(StorageError):
    """The SDK for this scheme is not installed."""

    def __init__(self, scheme: str, extra: str, module: str) -> None:
        super().__init__(f"{scheme}:// needs the {module} package: "
                         f"pip install 'invindex[{extra}]'")


def require(module: str, scheme: str, extra: str):
    """Import an SDK module lazily, or explain which extra installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtra(scheme, extra, e.name or module) from None
