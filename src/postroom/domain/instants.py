"""Instants as the server keeps them: aware UTC datetimes, whatever offset the client wrote them with."""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC (a naive one is taken as UTC).

    Raises ValueError when the instant lies outside the years 1-9999 once in UTC, as
    ``9999-12-31T23:59:59-14:00`` or ``0001-01-01T00:00:00+14:00`` do.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("the datetime lies outside the years 1-9999 in UTC") from error
