"""The set of services a transport is handed by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from postroom.services.access import AccessService
from postroom.services.api_keys import ApiKeyService
from postroom.services.dispatch import DispatchService
from postroom.services.dns import DnsService
from postroom.services.drafts import DraftService
from postroom.services.inbox_events import InboxEventService
from postroom.services.inboxes import InboxService
from postroom.services.mail import MailService
from postroom.services.outbound import OutboundService
from postroom.services.pods import PodService
from postroom.services.ports import HealthProbe
from postroom.services.receive import ReceiveService
from postroom.services.search import SearchService
from postroom.services.send import SendService
from postroom.services.webhooks import WebhookService


@dataclass(frozen=True)
class Services:
    access: AccessService
    inboxes: InboxService
    pods: PodService
    api_keys: ApiKeyService
    receive: ReceiveService
    mail: MailService
    search: SearchService
    webhooks: WebhookService
    inbox_events: InboxEventService
    dispatch: DispatchService
    health: HealthProbe
    send: SendService
    outbound: OutboundService
    dns: DnsService
    drafts: DraftService
