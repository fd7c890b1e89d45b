"""Logging for the command line: our loggers up with ``-v``, the SDKs' only on request,
and secrets redacted from whatever is printed.

The cloud SDKs log their HTTP traffic at DEBUG (urllib3's request lines carry a SAS's
``sig=``, botocore's carry ``Authorization`` and ``x-amz-security-token``), and urllib3
logs retried URLs at WARNING. So ``-v``/``-vv`` raise only invindex's own loggers (and
mrjob's, which reports job steps, not HTTP); ``--sdk-logs`` or ``INVINDEX_SDK_LOGS=1``
lets the SDKs' loggers through at the same level; and a filter on the one handler
rewrites every record, ours or theirs, with signatures, tokens, keys, passwords and
``Authorization``/cookie values replaced by ``REDACTED``.
"""

from __future__ import annotations

import logging
import os
import re
from functools import cache
from re import Pattern
from typing import List, Sequence, Tuple
from urllib.parse import quote, unquote

OWN_LOGGERS = ("invindex", "mrjob")
SDK_ENV = "INVINDEX_SDK_LOGS"
MASK = "REDACTED"

# names whose value is a secret, as header, query parameter, key=value or JSON field
_NAMES = (r"authorization|proxy-authorization|x-amz-security-token|x-amz-signature|"
          r"x-amz-credential|x-goog-signature|x-goog-credential|x-ms-copy-source-authorization|"
          r"sig|signature|token|access_token|refresh_token|id_token|client_secret|"
          r"private_key|private_key_id|password|accountkey|sharedaccesssignature|"
          r"aws_secret_access_key|aws_session_token|secret_access_key|secretaccesskey|"
          r"session_token|sessiontoken|cookie|set-cookie")
_HEADERS = (r"authorization|proxy-authorization|x-amz-security-token|"
            r"x-ms-copy-source-authorization|cookie|set-cookie")
# credentials that may sit in the environment: their values are removed wherever seen
_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET",
                "GOOGLE_OAUTH_ACCESS_TOKEN")
_MIN_SECRET = 8  # shorter values (an emulator's "testing") would mask ordinary words


@cache
def _patterns() -> List[Tuple[Pattern[str], str]]:
    """The patterns of secrets and their masks, compiled on first use: compiling these
    case-insensitive alternations cost every CLI start more than argparse's import,
    and most runs never redact a line."""
    return [
        # 'Authorization': b'AWS4-HMAC-SHA256 ...'  /  "private_key": "-----BEGIN..."
        (re.compile(rf"""(?i)(["'])({_NAMES})\1(\s*:\s*)b?(["'])(?:\\.|(?!\4).)*\4"""),
         rf"\1\2\1\3'{MASK}'"),
        # Authorization: SharedKey acct:sig  /  x-amz-security-token:FwoG... (canonical request)
        (re.compile(rf"(?im)(?<![\w-])({_HEADERS})([ \t]*:[ \t]*)(?!['\"\s])[^\r\n]+"),
         rf"\1\2{MASK}"),
        # botocore's "Signature:\n<hex>"
        (re.compile(r"(?i)(?<![\w-])(signature)(\s*:\s*)[A-Za-z0-9+/=]{16,}"), rf"\1\2{MASK}"),
        # ?sig=...&X-Amz-Signature=...   AccountKey=...;   aws_secret_access_key = ...
        (re.compile(rf"(?i)(?<![\w-])({_NAMES})(\s*=\s*)[^&;\s\"',<>]+"), rf"\1\2{MASK}"),
        (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {MASK}"),
    ]


def known_secrets(environ=os.environ) -> List[str]:
    """Secret values from the environment, plain and percent-encoded, longest first."""
    values = [environ.get(name, "") for name in _SECRET_VARS]
    for item in environ.get("AZURE_STORAGE_CONNECTION_STRING", "").split(";"):
        name, _, value = item.partition("=")
        if name.strip().lower() in ("accountkey", "sharedaccesssignature"):
            values.append(value)
            values += re.findall(r"(?:^|&)sig=([^&]+)", value)
    out = set()
    for v in values:
        if len(v) >= _MIN_SECRET:
            out |= {v, quote(v, safe=""), unquote(v)}
    return sorted(out, key=len, reverse=True)


def redact(text: str, secrets: Sequence[str] | None = None) -> str:
    """``text`` with secret values masked: by pattern, and the literal ``secrets``
    (default: ``known_secrets()`` of the environment)."""
    for value in known_secrets() if secrets is None else secrets:
        text = text.replace(value, MASK)
    for pattern, repl in _patterns():
        text = pattern.sub(repl, text)
    return text


class RedactFilter(logging.Filter):
    """Put on a handler: formats each record's message (secrets often arrive as
    %-arguments) and its traceback, and masks them. Never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = known_secrets()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: show it raw, still masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def configure(verbose: int, quiet: bool, sdk_logs: bool = False) -> None:
    """One stderr handler with the redaction filter; our loggers at the ``-v`` level
    (or ``INVINDEX_LOG_LEVEL``), everything else at WARNING unless SDK logs are asked.
    Does nothing when logging is configured already (a host program, pytest), as
    ``logging.basicConfig`` would not."""
    if logging.getLogger().handlers:
        return
    level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else (
        logging.ERROR if quiet else logging.WARNING)
    named = os.environ.get("INVINDEX_LOG_LEVEL", "").upper()
    if isinstance(logging.getLevelName(named), int):
        level = logging.getLevelName(named)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter())
    sdk = sdk_logs or _truthy(os.environ.get(SDK_ENV))
    logging.basicConfig(level=level if sdk else max(level, logging.WARNING),
                        handlers=[handler])
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
