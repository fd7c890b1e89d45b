"""The exception a user sees as one line: ``invindex: error: <message>``."""

from __future__ import annotations


class InvindexError(Exception):
    """An expected failure (bad input, missing index, refused overwrite, auth...).

    The CLI prints the message alone and exits with ``exit_code``; anything else is a
    bug, shown with its traceback only under ``--verbose``.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(InvindexError):
    """Wrong arguments: exit status 2, as argparse uses."""

    exit_code = 2


class NotFound(InvindexError):
    """A term, object or index that is not there: exit status 1."""
