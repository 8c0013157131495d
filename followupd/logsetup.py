"""Logging for the CLI and the daemon.

Under systemd, stderr is connected to the journal and ``$JOURNAL_STREAM`` holds its
``device:inode``; then every line starts with an sd-daemon priority prefix (``<3>``)
and carries no timestamp (the journal adds its own). Elsewhere lines read
``2026-01-01 12:00:00 LEVEL logger: message``.

A :class:`RedactingFilter` on the handler masks anything that looks like an OAuth
secret. It is defence in depth only: code must not log secrets, email bodies or event
descriptions in the first place.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import traceback
from typing import TextIO

REDACTED = "[redacted]"

# Loggers that print request bodies (tokens, client secrets) at DEBUG.
_CHATTY_LOGGERS = {
    "oauthlib": logging.WARNING,
    "requests_oauthlib": logging.WARNING,
    "google_auth_oauthlib": logging.INFO,
    "urllib3": logging.INFO,
    "googleapiclient.discovery_cache": logging.ERROR,
}

_SENSITIVE_KEYS = (
    "access_token|refresh_token|id_token|client_secret|assertion|password|passwd"
    "|api_key|apikey|authorization_code|code_verifier|token"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers: "Bearer xyz", "Authorization: Basic xyz".
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]+"), rf"\1{REDACTED}"),
    (
        re.compile(
            r"""(?i)(\bauthorization["']?\s*[:=]\s*["']?)((?:basic|bearer)\s+)?[^\s"',}]+"""
        ),
        rf"\1\2{REDACTED}",
    ),
    # key=value and key: value, quoted or not (query strings, JSON, dict reprs).
    (
        re.compile(
            rf"""(?ix)
            (["']?\b(?:{_SENSITIVE_KEYS})\b["']?)   # the key, perhaps quoted
            (\s*[:=]\s*)                          # = or :
            (["']?)                               # opening quote
            (?!\[redacted\])[^\s"'&,;}}\])]+      # the value
            """
        ),
        rf"\1\2\3{REDACTED}",
    ),
    # OAuth authorization codes in redirect URLs: ...?code=4/0Ab...&scope=...
    (re.compile(r"([?&]code=)[^&\s\"'#]+"), rf"\1{REDACTED}"),
    # Google access tokens, refresh tokens, client secrets, and JWTs (id tokens).
    (re.compile(r"\bya29\.[A-Za-z0-9._\-]+"), REDACTED),
    (re.compile(r"(?<![\w./:])1//[A-Za-z0-9._\-]{8,}"), REDACTED),
    (re.compile(r"\bGOCSPX-[A-Za-z0-9_\-]+"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), REDACTED),
)


def redact(text: str) -> str:
    """Mask anything in *text* that looks like a token or a client secret."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrite each record's message, traceback and stack with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template only
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


# sd-daemon(3) priorities.
_PRIORITY = (
    (logging.CRITICAL, 2),
    (logging.ERROR, 3),
    (logging.WARNING, 4),
    (logging.INFO, 6),
)


def _priority(levelno: int) -> int:
    for level, prio in _PRIORITY:
        if levelno >= level:
            return prio
    return 7


class JournalFormatter(logging.Formatter):
    """``<PRIO>logger: message`` on every line, so tracebacks keep their priority."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in text.splitlines() or [""])


class PlainFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")


def stream_is_journal(stream: TextIO) -> bool:
    """True when *stream* is the journal connection systemd named in ``$JOURNAL_STREAM``."""
    value = os.environ.get("JOURNAL_STREAM", "")
    dev, sep, ino = value.partition(":")
    if not sep:
        return False
    try:
        st = os.fstat(stream.fileno())
        return (st.st_dev, st.st_ino) == (int(dev), int(ino))
    except (OSError, ValueError, AttributeError):
        # No fileno (StringIO, pytest capture) or a malformed variable.
        return False


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send the root logger to *stream* (default: the current ``sys.stderr``).

    Calling it again replaces the handler it installed before.
    """
    target = stream if stream is not None else sys.stderr
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level: {level!r}")

    handler = logging.StreamHandler(target)
    handler.setFormatter(JournalFormatter() if stream_is_journal(target) else PlainFormatter())
    handler.addFilter(RedactingFilter())
    handler.set_name("followupd")

    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "followupd":
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(numeric)
    for name, floor in _CHATTY_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, numeric))
    logging.captureWarnings(True)
