"""Request dependencies: the authenticated, rate-limited principal, decoded path ids and list parameters."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from postroom.api.ratelimit import FailedAuthentications, RateLimiter
from postroom.api.rawpath import segment
from postroom.domain.access import Principal
from postroom.domain.instants import as_utc
from postroom.domain.text import storable
from postroom.errors import InvalidInput, Unauthorized
from postroom.services.container import Services
from postroom.services.paging import ListParams


async def services(request: Request) -> Services:
    value: Services = request.app.state.services
    return value


def authorization_header(connection: HTTPConnection) -> str | None:
    """The one Authorization header; several are refused rather than letting one of them win."""
    values = connection.headers.getlist("authorization")
    if len(values) > 1:
        raise InvalidInput("Send one Authorization header, not several", field="authorization")
    return values[0] if values else None


def principal_of(connection: HTTPConnection, authorization: str | None) -> Principal:
    """The principal of a credential, counting failures per client address (429 once it has none left)."""
    container: Services = connection.app.state.services
    failures: FailedAuthentications = connection.app.state.failed_authentications
    client = connection.client.host if connection.client else ""
    failures.check(client, authorization)
    try:
        principal = container.access.authenticate(authorization)
    except Unauthorized:
        failures.failed(client)
        raise
    if authorization:
        failures.succeeded(authorization)
    return principal


async def authenticate(request: Request) -> Principal:
    """On the event loop when this process can answer from memory: a key it authenticated lately, still fresh in
    the key cache, and rate limits held here. Anything else (a cache miss, a ``used_at`` write, an unknown key, a
    shared rate-limit store) reads a database or a store, so it runs in the threadpool as a whole."""
    limiter: RateLimiter = request.app.state.rate_limiter
    if limiter.in_memory:
        authorization = authorization_header(request)
        failures: FailedAuthentications = request.app.state.failed_authentications
        if authorization and failures.known(authorization):
            container: Services = request.app.state.services
            principal = container.access.cached_principal(authorization)
            if principal is not None:
                failures.succeeded(authorization)
                return _admitted(request, limiter, principal)
    return await run_in_threadpool(_authenticate_in_thread, request)


def _authenticate_in_thread(request: Request) -> Principal:
    limiter: RateLimiter = request.app.state.rate_limiter
    return _admitted(request, limiter, principal_of(request, authorization_header(request)))


def _admitted(request: Request, limiter: RateLimiter, principal: Principal) -> Principal:
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


def query_instant(value: datetime | None, name: str) -> datetime | None:
    """A datetime query parameter in UTC; one that leaves the years 1-9999 in UTC is a 400 naming it."""
    if value is None:
        return None
    try:
        return as_utc(value)
    except ValueError as error:
        raise InvalidInput(f"{name}: {error}", field=name) from error


# What a body must contain before it can hold unstorable text: an escaped surrogate or NUL, a raw NUL, or a
# surrogate encoded in UTF-8 (json.loads decodes bytes with "surrogatepass").
_MAYBE_UNSTORABLE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)|\x00|\xed[\xa0-\xbf]")


def unstorable_path(value: object, path: str = "") -> str | None:
    """The dotted path of the first key or string in a JSON value that no database can store, if any."""
    if isinstance(value, str):
        return None if storable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if not storable(key):
                return path
            found = unstorable_path(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


async def storable_body(connection: HTTPConnection) -> None:
    """Refuse a JSON body holding a NUL or an unpaired surrogate anywhere, keys included, as a 400.

    This runs before body validation on every route: the validator cannot even report an object key it
    cannot encode as UTF-8 (a 500 before this check), and no text like that can be stored anyway.
    """
    if not isinstance(connection, Request) or connection.method in {"GET", "HEAD", "OPTIONS"}:
        return
    body = await connection.body()
    if not _MAYBE_UNSTORABLE.search(body):
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return  # not JSON: the route's own body parsing answers it
    path = unstorable_path(parsed)
    if path is not None:
        where = f" (in {path})" if path else ""
        raise InvalidInput(f"text must not contain a NUL character or an unpaired surrogate{where}", field=path)


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
