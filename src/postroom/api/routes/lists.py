"""Allow/block list routes at organization, pod and inbox scope (spec §3.12): list, get, create, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from postroom.api.deps import AppServices, Caller, Listing, RouteInboxId, RoutePodId
from postroom.api.rawpath import segment
from postroom.api.schemas.lists import CreateListEntryBody, ListEntriesOut, ListEntryOut
from postroom.services.trust.lists import ListRoute

router = APIRouter(tags=["lists"])
ORG = "/v0/lists/{direction}/{list_type}"
POD = "/v0/pods/{pod_id}/lists/{direction}/{list_type}"
INBOX = "/v0/inboxes/{inbox_id}/lists/{direction}/{list_type}"


async def list_route(pod_id: RoutePodId, inbox_id: RouteInboxId) -> ListRoute:
    return ListRoute(pod_id=pod_id, inbox_id=inbox_id)


async def list_name(request: Request) -> tuple[str, str]:
    """(direction, type) of the route; checked by the service so a bad one is a 400 naming it."""
    return segment(request.path_params["direction"]), segment(request.path_params["list_type"])


async def entry_id(request: Request) -> str:
    return segment(request.path_params["entry"])


Route = Annotated[ListRoute, Depends(list_route)]
Name = Annotated[tuple[str, str], Depends(list_name)]
Entry = Annotated[str, Depends(entry_id)]


def list_entries(caller: Caller, container: AppServices, route: Route, name: Name, listing: Listing) -> ListEntriesOut:
    page = container.lists.list_entries(caller, route, name[0], name[1], listing)
    items = [ListEntryOut.of(entry) for entry in page.items]
    return ListEntriesOut(count=len(items), limit=page.limit, next_page_token=page.next_page_token, entries=items)


def create_entry(
    caller: Caller, container: AppServices, route: Route, name: Name, body: CreateListEntryBody
) -> ListEntryOut:
    return ListEntryOut.of(container.lists.create(caller, route, name[0], name[1], body.entry, body.reason))


def get_entry(caller: Caller, container: AppServices, route: Route, name: Name, entry: Entry) -> ListEntryOut:
    return ListEntryOut.of(container.lists.get(caller, route, name[0], name[1], entry))


def delete_entry(caller: Caller, container: AppServices, route: Route, name: Name, entry: Entry) -> Response:
    container.lists.delete(caller, route, name[0], name[1], entry)
    return Response(status_code=204)


for prefix in (ORG, POD, INBOX):
    item = f"{prefix}/{{entry}}"
    router.add_api_route(prefix, list_entries, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(prefix, create_entry, methods=["POST"], response_model_exclude_none=True)
    router.add_api_route(item, get_entry, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(item, delete_entry, methods=["DELETE"], status_code=204)
