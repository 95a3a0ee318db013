"""Current time in UTC, with the microsecond precision every database we support can store."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
