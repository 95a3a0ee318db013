"""The email-package policies parse_message uses: policy.default and compat32, with structure headers bounded.

Both re-parse Content-Type & co. on every access, quadratically on garbage; bounded, no message can stall a worker.
"""

from __future__ import annotations

from email.header import Header
from email.message import EmailMessage, Message
from email.policy import Compat32, EmailPolicy
from typing import TYPE_CHECKING, Any

from postroom.mime.params import bounded

STRUCTURE_HEADERS = frozenset({"content-type", "content-disposition", "content-transfer-encoding"})

if TYPE_CHECKING:  # generic only in the type stubs
    _EmailPolicy = EmailPolicy[EmailMessage]
    _Compat32 = Compat32[Message]
else:
    _EmailPolicy = EmailPolicy
    _Compat32 = Compat32


class BoundedDefault(_EmailPolicy):
    """policy.default, except that the structure headers come back as plain bounded strings."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if name.lower() in STRUCTURE_HEADERS:
            return bounded(value)
        return super().header_fetch_parse(name, value)


class BoundedCompat32(_Compat32):
    """policy.compat32, except that the structure headers come back bounded."""

    def header_fetch_parse(self, name: str, value: str) -> str | Header:  # type: ignore[override]  # as in typeshed
        if name.lower() in STRUCTURE_HEADERS:
            return bounded(value)
        return super().header_fetch_parse(name, value)


DEFAULT = BoundedDefault()
COMPAT32 = BoundedCompat32()
