"""Query parameters of the mail search endpoints: the required ``q`` and the time window (spec §3.4, §3.5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from postroom.api.deps import IsoDateTime, query_instant
from postroom.services.mail.search import SearchParams


async def search_params(
    q: Annotated[str, Query()],
    before: Annotated[IsoDateTime | None, Query()] = None,
    after: Annotated[IsoDateTime | None, Query()] = None,
) -> SearchParams:
    """Missing ``q`` is a 400 validation error; its length is checked by the service (2-256 characters)."""
    return SearchParams(q=q, before=query_instant(before, "before"), after=query_instant(after, "after"))


Search = Annotated[SearchParams, Depends(search_params)]
