"""Query parameters of the mail search endpoints: the required ``q`` and the time window (spec §3.4, §3.5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query

from postroom.api.deps import IsoDateTime
from postroom.services.mail.search import SearchParams


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def search_params(
    q: Annotated[str, Query()],
    before: Annotated[IsoDateTime | None, Query()] = None,
    after: Annotated[IsoDateTime | None, Query()] = None,
) -> SearchParams:
    """Missing ``q`` is a 400 validation error; its length is checked by the service (2-256 characters)."""
    return SearchParams(q=q, before=_utc(before), after=_utc(after))


Search = Annotated[SearchParams, Depends(search_params)]
