"""Request dependencies: the authenticated, rate-limited principal, decoded path ids and list parameters."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator

from postroom.api.ratelimit import RateLimiter
from postroom.api.rawpath import segment
from postroom.domain.access import Principal
from postroom.domain.text import storable
from postroom.errors import InvalidInput
from postroom.services.container import Services
from postroom.services.paging import ListParams


async def services(request: Request) -> Services:
    value: Services = request.app.state.services
    return value


def authenticate(request: Request) -> Principal:
    """Runs in the threadpool (it reads the database); the other dependencies are cheap and run on the loop."""
    container: Services = request.app.state.services
    limiter: RateLimiter = request.app.state.rate_limiter
    principal = container.access.authenticate(request.headers.get("authorization"))
    request.state.api_key_id = principal.api_key_id
    limiter.acquire(principal.api_key_id)
    return principal


def _path_id(request: Request, name: str) -> str | None:
    raw = request.path_params.get(name)
    return segment(raw) if isinstance(raw, str) else None


async def route_pod_id(request: Request) -> str | None:
    """The ``{pod_id}`` of a pod route, or None on the organization route of the same operation."""
    return _path_id(request, "pod_id")


async def route_inbox_id(request: Request) -> str | None:
    return _path_id(request, "inbox_id")


async def inbox_id(request: Request) -> str:
    value = _path_id(request, "inbox_id")
    assert value is not None
    return value


async def pod_id(request: Request) -> str:
    value = _path_id(request, "pod_id")
    assert value is not None
    return value


async def api_key_id(request: Request) -> str:
    value = _path_id(request, "api_key_id")
    assert value is not None
    return value


async def list_params(
    limit: Annotated[int | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
    ascending: Annotated[bool, Query()] = False,
) -> ListParams:
    return ListParams(limit=limit, page_token=page_token or None, ascending=ascending)


def list_query(request: Request, name: str) -> list[str] | None:
    """A list-valued query parameter in any of its three spellings (spec §8).

    ``labels=["a","b"]`` (one JSON array, as both SDKs send), ``labels=a&labels=b`` (repeated keys) and
    ``labels=a`` (a bare value). A value that starts with ``[`` must be a JSON array of strings.
    """
    values = request.query_params.getlist(name)
    if not values:
        return None
    result: list[str] = []
    for value in values:
        if value.lstrip().startswith("["):
            try:
                parsed = json.loads(value)
            except ValueError as error:
                raise InvalidInput(f"{name} is not a valid JSON array", field=name) from error
            if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
                raise InvalidInput(f"{name} must be an array of strings", field=name)
            result.extend(parsed)
        else:
            result.append(value)
    if not all(storable(value) for value in result):
        raise InvalidInput(f"{name} contains a NUL character or an unpaired surrogate", field=name)
    return result


_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_datetime(value: object) -> object:
    """Only an ISO-8601 date and time: pydantic alone would also read ``0.5`` as a Unix time and a bare date."""
    if isinstance(value, str) and not _ISO_DATETIME.match(value):
        raise ValueError("must be an ISO-8601 date-time, e.g. 2024-01-02T03:04:05Z")
    return value


Caller = Annotated[Principal, Depends(authenticate)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
AppServices = Annotated[Services, Depends(services)]
RoutePodId = Annotated[str | None, Depends(route_pod_id)]
RouteInboxId = Annotated[str | None, Depends(route_inbox_id)]
InboxId = Annotated[str, Depends(inbox_id)]
PodId = Annotated[str, Depends(pod_id)]
ApiKeyId = Annotated[str, Depends(api_key_id)]
Listing = Annotated[ListParams, Depends(list_params)]
