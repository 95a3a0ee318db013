"""API key routes at organization, pod and inbox scope (spec §3.2); the route decides the new key's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from postroom.api.deps import ApiKeyId, AppServices, Caller, Listing, RouteInboxId, RoutePodId
from postroom.api.schemas.access import (
    ApiKeyOut,
    CreateApiKeyBody,
    CreatedApiKeyOut,
    ListApiKeysOut,
    UpdateApiKeyBody,
)
from postroom.errors import InvalidInput
from postroom.services.access.api_keys import KeyRoute
from postroom.services.paging import empty_page

router = APIRouter(tags=["api-keys"])
ORG = "/v0/api-keys"
POD = "/v0/pods/{pod_id}/api-keys"
INBOX = "/v0/inboxes/{inbox_id}/api-keys"


async def key_route(pod_id: RoutePodId, inbox_id: RouteInboxId) -> KeyRoute:
    return KeyRoute(pod_id=pod_id, inbox_id=inbox_id)


Route = Annotated[KeyRoute, Depends(key_route)]


def create_key(
    caller: Caller, container: AppServices, route: Route, body: CreateApiKeyBody | None = None
) -> CreatedApiKeyOut:
    body = body or CreateApiKeyBody()
    created = container.api_keys.create(caller, route, body.name, body.permissions, body.expires_at)
    key = created.key
    return CreatedApiKeyOut(
        api_key_id=key.api_key_id,
        api_key=created.secret,
        prefix=key.prefix,
        name=key.name,
        pod_id=key.pod_id,
        inbox_id=key.inbox_id,
        permissions=key.permissions,
        created_at=key.created_at,
        expires_at=key.expires_at,
    )


def list_keys(
    caller: Caller,
    container: AppServices,
    route: Route,
    listing: Listing,
    key_type: Annotated[str | None, Query(alias="type", pattern="^(bearer|public_key)$")] = None,
) -> ListApiKeysOut:
    if key_type == "public_key":  # AgentID public keys are not supported, so there are none to list
        empty_page(listing)  # a bad limit is still a 400
        return ListApiKeysOut(count=0, api_keys=[])
    page = container.api_keys.list(caller, route, listing)
    keys = [ApiKeyOut.of(key) for key in page.items]
    return ListApiKeysOut(count=len(keys), next_page_token=page.next_page_token, api_keys=keys)


def get_key(caller: Caller, container: AppServices, api_key_id: ApiKeyId) -> ApiKeyOut:
    return ApiKeyOut.of(container.api_keys.get(caller, api_key_id))


def update_key(
    caller: Caller, container: AppServices, route: Route, api_key_id: ApiKeyId, body: UpdateApiKeyBody
) -> ApiKeyOut:
    if "name" in body.model_fields_set and body.name is None:
        raise InvalidInput("name must be a string", field="name")
    given = "permissions" in body.model_fields_set
    key = container.api_keys.update(caller, route, api_key_id, body.name, given, body.permissions)
    return ApiKeyOut.of(key)


def delete_key(caller: Caller, container: AppServices, route: Route, api_key_id: ApiKeyId) -> Response:
    container.api_keys.delete(caller, route, api_key_id)
    return Response(status_code=204)


router.add_api_route(f"{ORG}/{{api_key_id}}", get_key, methods=["GET"], response_model_exclude_none=True)
for prefix in (ORG, POD, INBOX):
    router.add_api_route(prefix, list_keys, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(prefix, create_key, methods=["POST"], response_model_exclude_none=True)
    router.add_api_route(f"{prefix}/{{api_key_id}}", update_key, methods=["PATCH"], response_model_exclude_none=True)
    router.add_api_route(f"{prefix}/{{api_key_id}}", delete_key, methods=["DELETE"], status_code=204)
