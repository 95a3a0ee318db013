"""Wire shapes of webhooks, their custom headers and the inbox event log (spec §2 Webhook, InboxEvent; §3.10)."""

from __future__ import annotations

from pydantic import AwareDatetime, StrictBool, StrictStr

from postroom.api.schemas.access import PageOut, RequestBody
from postroom.domain.events import InboxEvent
from postroom.domain.webhooks import Webhook
from postroom.wire.base import Response


class CreateInboxWebhookBody(RequestBody):
    url: StrictStr
    event_types: list[StrictStr]
    client_id: StrictStr | None = None
    headers: dict[str, StrictStr] | None = None


class CreatePodWebhookBody(CreateInboxWebhookBody):
    inbox_ids: list[StrictStr] | None = None


class CreateWebhookBody(CreatePodWebhookBody):
    pod_ids: list[StrictStr] | None = None


class UpdateInboxWebhookBody(RequestBody):
    event_types: list[StrictStr] | None = None
    enabled: StrictBool | None = None


class UpdatePodWebhookBody(UpdateInboxWebhookBody):
    add_inbox_ids: list[StrictStr] | None = None
    remove_inbox_ids: list[StrictStr] | None = None


class UpdateWebhookBody(UpdatePodWebhookBody):
    add_pod_ids: list[StrictStr] | None = None
    remove_pod_ids: list[StrictStr] | None = None


class UpdateHeadersBody(RequestBody):
    headers: dict[str, StrictStr] | None = None
    remove_headers: list[StrictStr] | None = None


class WebhookOut(Response):
    webhook_id: str
    url: str
    event_types: list[str] | None = None
    pod_ids: list[str] | None = None
    inbox_ids: list[str] | None = None
    pod_id: str | None = None
    inbox_id: str | None = None
    secret: str
    enabled: bool
    client_id: str | None = None
    updated_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            webhook_id=webhook.webhook_id,
            url=webhook.url,
            event_types=webhook.event_types,
            pod_ids=webhook.pod_ids or None,
            inbox_ids=webhook.inbox_ids or None,
            pod_id=webhook.pod_id,
            inbox_id=webhook.inbox_id,
            secret=webhook.secret,
            enabled=webhook.enabled,
            client_id=webhook.client_id,
            updated_at=webhook.updated_at,
            created_at=webhook.created_at,
        )


class ListWebhooksOut(PageOut):
    webhooks: list[WebhookOut]


class HeaderNamesOut(Response):
    header_names: list[str]


class InboxEventOut(Response):
    organization_id: str
    pod_id: str
    inbox_id: str
    event_id: str
    event_type: str
    message_id: str
    label: str
    event_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def of(cls, event: InboxEvent) -> InboxEventOut:
        return cls.model_validate(vars(event))


class ListInboxEventsOut(PageOut):
    events: list[InboxEventOut]
