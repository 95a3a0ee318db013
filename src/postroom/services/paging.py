"""Turns a repository's keyset fetch into a page of results with an opaque token for the next page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from postroom.domain.pagination import MAX_LIMIT, PageRequest, PageTokens, Position, clamp_limit

T = TypeVar("T")


@dataclass(frozen=True)
class ListParams:
    limit: int | None = None
    page_token: str | None = None
    ascending: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    limit: int
    next_page_token: str | None


def paginate(
    tokens: PageTokens,
    endpoint: str,
    filters: str,
    params: ListParams,
    fetch: Callable[[PageRequest], list[T]],
    position: Callable[[T], Position],
    maximum: int = MAX_LIMIT,
) -> Page[T]:
    limit = clamp_limit(params.limit, maximum)
    after = tokens.decode(params.page_token, endpoint, filters) if params.page_token else None
    rows = fetch(PageRequest(limit=limit + 1, after=after, ascending=params.ascending))
    items = rows[:limit]
    next_token = tokens.encode(endpoint, filters, position(items[-1])) if len(rows) > limit else None
    return Page(items=items, limit=limit, next_page_token=next_token)


def empty_page(params: ListParams) -> Page[T]:
    return Page(items=[], limit=clamp_limit(params.limit), next_page_token=None)
