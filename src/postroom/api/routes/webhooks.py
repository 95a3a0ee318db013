"""Webhook routes at organization, pod and inbox scope, with their custom headers (spec §3.10)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from postroom.api.deps import AppServices, Caller, Listing, RouteInboxId, RoutePodId
from postroom.api.rawpath import segment
from postroom.api.schemas.webhooks import (
    CreateInboxWebhookBody,
    CreatePodWebhookBody,
    CreateWebhookBody,
    HeaderNamesOut,
    ListWebhooksOut,
    UpdateHeadersBody,
    UpdateInboxWebhookBody,
    UpdatePodWebhookBody,
    UpdateWebhookBody,
    WebhookOut,
)
from postroom.errors import NotFound
from postroom.services.events.webhooks import NewWebhook, WebhookChange, WebhookRoute

router = APIRouter(tags=["webhooks"])
ORG = "/v0/webhooks"
POD = "/v0/pods/{pod_id}/webhooks"
INBOX = "/v0/inboxes/{inbox_id}/webhooks"


async def webhook_route(pod_id: RoutePodId, inbox_id: RouteInboxId) -> WebhookRoute:
    return WebhookRoute(pod_id=pod_id, inbox_id=inbox_id)


async def webhook_id(request: Request) -> str:
    return segment(request.path_params["webhook_id"])


Route = Annotated[WebhookRoute, Depends(webhook_route)]
WebhookId = Annotated[str, Depends(webhook_id)]


def _create(caller: Caller, container: AppServices, route: WebhookRoute, body: CreateInboxWebhookBody) -> WebhookOut:
    new = NewWebhook(
        url=body.url,
        event_types=body.event_types,
        pod_ids=getattr(body, "pod_ids", None) or [],
        inbox_ids=getattr(body, "inbox_ids", None) or [],
        client_id=body.client_id,
        headers=body.headers,
    )
    return WebhookOut.of(container.webhooks.create(caller, route, new))


def create_org(caller: Caller, container: AppServices, route: Route, body: CreateWebhookBody) -> WebhookOut:
    return _create(caller, container, route, body)


def create_pod(caller: Caller, container: AppServices, route: Route, body: CreatePodWebhookBody) -> WebhookOut:
    return _create(caller, container, route, body)


def create_inbox(caller: Caller, container: AppServices, route: Route, body: CreateInboxWebhookBody) -> WebhookOut:
    return _create(caller, container, route, body)


def _update(
    caller: Caller, container: AppServices, route: WebhookRoute, webhook_id: str, body: UpdateInboxWebhookBody
) -> WebhookOut:
    change = WebhookChange(
        add_pod_ids=getattr(body, "add_pod_ids", None) or [],
        remove_pod_ids=getattr(body, "remove_pod_ids", None) or [],
        add_inbox_ids=getattr(body, "add_inbox_ids", None) or [],
        remove_inbox_ids=getattr(body, "remove_inbox_ids", None) or [],
        event_types=body.event_types or [],
        enabled=body.enabled,
    )
    return WebhookOut.of(container.webhooks.update(caller, route, webhook_id, change))


def update_org(
    caller: Caller, container: AppServices, route: Route, webhook_id: WebhookId, body: UpdateWebhookBody
) -> WebhookOut:
    return _update(caller, container, route, webhook_id, body)


def update_pod(
    caller: Caller, container: AppServices, route: Route, webhook_id: WebhookId, body: UpdatePodWebhookBody
) -> WebhookOut:
    return _update(caller, container, route, webhook_id, body)


def update_inbox(
    caller: Caller, container: AppServices, route: Route, webhook_id: WebhookId, body: UpdateInboxWebhookBody
) -> WebhookOut:
    return _update(caller, container, route, webhook_id, body)


def list_webhooks(caller: Caller, container: AppServices, route: Route, listing: Listing) -> ListWebhooksOut:
    page = container.webhooks.list_webhooks(caller, route, listing)
    items = [WebhookOut.of(webhook) for webhook in page.items]
    return ListWebhooksOut(count=len(items), limit=page.limit, next_page_token=page.next_page_token, webhooks=items)


def get_webhook(caller: Caller, container: AppServices, route: Route, webhook_id: WebhookId) -> WebhookOut:
    return WebhookOut.of(container.webhooks.get(caller, route, webhook_id))


def delete_webhook(caller: Caller, container: AppServices, route: Route, webhook_id: WebhookId) -> Response:
    container.webhooks.delete(caller, route, webhook_id)
    return Response(status_code=204)


def get_headers(caller: Caller, container: AppServices, route: Route, webhook_id: WebhookId) -> HeaderNamesOut:
    return HeaderNamesOut(header_names=container.webhooks.header_names(caller, route, webhook_id))


def update_headers(
    caller: Caller, container: AppServices, route: Route, webhook_id: WebhookId, body: UpdateHeadersBody
) -> Response:
    container.webhooks.update_headers(caller, route, webhook_id, body.headers, body.remove_headers)
    return Response(status_code=204)


async def polling_not_offered() -> None:
    """Polling webhooks are not part of this release (spec §8): every polling route is not found."""
    raise NotFound("Polling webhooks are not supported by this server")


for prefix, create, update in (
    (ORG, create_org, update_org),
    (POD, create_pod, update_pod),
    (INBOX, create_inbox, update_inbox),
):
    router.add_api_route(f"{prefix}/polling", polling_not_offered, methods=["POST"])
    item = f"{prefix}/{{webhook_id}}"
    router.add_api_route(prefix, list_webhooks, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(prefix, create, methods=["POST"], response_model_exclude_none=True)
    router.add_api_route(item, get_webhook, methods=["GET"], response_model_exclude_none=True)
    router.add_api_route(item, update, methods=["PATCH"], response_model_exclude_none=True)
    router.add_api_route(item, delete_webhook, methods=["DELETE"], status_code=204)
    router.add_api_route(f"{item}/headers", get_headers, methods=["GET"])
    router.add_api_route(f"{item}/headers", update_headers, methods=["PATCH"], status_code=204)
