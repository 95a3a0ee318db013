"""The set of services a transport is handed by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from postroom.services.access.api_keys import ApiKeyService
from postroom.services.access.authentication import AccessService
from postroom.services.access.inboxes import InboxService
from postroom.services.access.pods import PodService
from postroom.services.domains.domains import DomainService
from postroom.services.domains.verification import DomainVerifier
from postroom.services.drafts.drafts import DraftService
from postroom.services.events.dispatch import DispatchService
from postroom.services.events.webhooks import WebhookService
from postroom.services.mail.inbox_events import InboxEventService
from postroom.services.mail.mailbox import MailService
from postroom.services.mail.receive import ReceiveService
from postroom.services.mail.search import SearchService
from postroom.services.metrics.queries import MetricsService
from postroom.services.ports import HealthProbe
from postroom.services.sending.outbound import OutboundService
from postroom.services.sending.send import SendService
from postroom.services.trust.lists import ListService
from postroom.services.upkeep.retention import RetentionService


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
    domains: DomainService
    domain_checks: DomainVerifier
    drafts: DraftService
    lists: ListService
    retention: RetentionService
    metrics: MetricsService
