"""Keeps secrets out of every log line: API keys, webhook secrets, download tokens, URL passwords, configured secrets.

A filter on every log handler rewrites the message, its arguments and any traceback text before formatting, so
uvicorn's lines (``"WebSocket /v0?api_key=..." [accepted]``), ours and exception messages are all covered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bpr_[A-Za-z0-9_-]{16,}"), f"pr_{REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=_-]+"), f"whsec_{REDACTED}"),
    (re.compile(r"(/downloads/)(?!\[redacted\])[^\s\"'?#]+"), rf"\g<1>{REDACTED}"),
    (
        re.compile(
            r"([?&;](?:api_key|apikey|key|token|access_token|secret|password|passwd|"
            r"X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature)=)(?!\[redacted\])[^&\s\"'#]+",
            re.IGNORECASE,
        ),
        rf"\g<1>{REDACTED}",
    ),
    (re.compile(r"(://[^/\s:@]*:)(?!\[redacted\]@)[^@\s/]+@"), rf"\g<1>{REDACTED}@"),
    (re.compile(r"\b(Bearer|Basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]+"), rf"\g<1> {REDACTED}"),
)


# Text none of whose patterns can match lacks all of these (the query-string one needs "="), so one search
# skips the six substitutions on most lines, such as every access log line without a key or a query.
_ANY_PATTERN = re.compile(r"pr_|whsec_|/downloads/|=|://|Bearer|Basic")


def redact(text: str, known: Iterable[str] = ()) -> str:
    for secret in known:
        if secret:
            text = text.replace(secret, REDACTED)
    if _ANY_PATTERN.search(text) is None:
        return text
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record in place; never drops one."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__()
        self.known = tuple(secret for secret in known if secret)

    def _clean(self, value: object) -> object:
        return redact(value, self.known) if isinstance(value, str) else value

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: self._clean(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            # uvicorn's access formatter reads its arguments by position, so they stay a tuple of the same length.
            record.args = tuple(self._clean(value) for value in record.args)
        if record.args or not isinstance(record.msg, str):  # else the message is the msg just cleaned
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                message = str(record.msg)
            cleaned = redact(message, self.known)
            if cleaned != message:  # a secret split across the format string and its arguments
                record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.known)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.known)
        return True


def install(known: Iterable[str] = ()) -> RedactingFilter:
    """Put one filter on every handler that exists now: call again after a library (uvicorn) adds handlers."""
    redacting = RedactingFilter(known)
    manager: Any = logging.root.manager
    named = [logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for logger in (logging.root, *named):
        for handler in logger.handlers:
            for old in [item for item in handler.filters if isinstance(item, RedactingFilter)]:
                handler.removeFilter(old)
            handler.addFilter(redacting)
    return redacting
