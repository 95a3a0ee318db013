"""Webhooks at organization, pod and inbox scope (spec §3.10): create, list, get, update, delete, custom headers."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field

from postroom.domain.access import Principal
from postroom.domain.ids import new_id
from postroom.domain.pagination import PageTokens
from postroom.domain.subscriptions import check_event_types
from postroom.domain.webhooks import MAX_FILTER_IDS, SECRET_PREFIX, Webhook, check_addresses, url_host
from postroom.errors import InvalidInput, NotFound
from postroom.services.access.authentication import require
from postroom.services.access.scopes import owned_scope, visible_inbox, visible_pod
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import Clock, HostResolver, UnitOfWork, UnitOfWorkFactory

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")  # an HTTP header name (RFC 9110 token)
# Names the signature, the body or the connection depend on: a configured header must not override them.
_RESERVED = ("svix-", "webhook-", "content-", "host", "connection", "transfer-encoding", "user-agent")
MAX_HEADERS = 32


@dataclass(frozen=True)
class WebhookRoute:
    """The route a webhook request came through: organization (no ids), a pod, or an inbox."""

    pod_id: str | None = None
    inbox_id: str | None = None


@dataclass(frozen=True)
class NewWebhook:
    url: str
    event_types: list[str]
    pod_ids: list[str] = field(default_factory=list)
    inbox_ids: list[str] = field(default_factory=list)
    client_id: str | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class WebhookChange:
    add_pod_ids: list[str] = field(default_factory=list)
    remove_pod_ids: list[str] = field(default_factory=list)
    add_inbox_ids: list[str] = field(default_factory=list)
    remove_inbox_ids: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    enabled: bool | None = None


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def check_headers(headers: dict[str, str], field_name: str = "headers") -> dict[str, str]:
    for name, value in headers.items():
        if not _TOKEN.match(name) or name.lower().startswith(_RESERVED):
            raise InvalidInput(f"{name!r} is not an allowed header name", field=f"{field_name}.{name}")
        if any(ch in value for ch in "\r\n\0") or len(value) > 4096:
            raise InvalidInput(
                "header values must be one line of at most 4096 characters", field=f"{field_name}.{name}"
            )
    return dict(headers)


def _owner_visible(principal: Principal, webhook: Webhook) -> bool:
    if webhook.organization_id != principal.organization_id:
        return False
    if principal.inbox_id is not None:
        return webhook.inbox_id == principal.inbox_id
    if principal.pod_id is not None:
        return webhook.pod_id == principal.pod_id
    return True


class WebhookService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        tokens: PageTokens,
        resolver: HostResolver,
        allow_private: bool,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._tokens = tokens
        self._resolver = resolver
        self._allow_private = allow_private

    def check_url(self, url: str) -> str:
        host = url_host(url)
        check_addresses(host, self._resolver.addresses(host), self._allow_private)
        return url

    def _owner(self, uow: UnitOfWork, principal: Principal, route: WebhookRoute) -> tuple[str | None, str | None]:
        if route.inbox_id is not None:
            inbox = visible_inbox(uow, principal, route.inbox_id)
            return inbox.pod_id, inbox.inbox_id
        if route.pod_id is not None:
            return visible_pod(uow, principal, route.pod_id).pod_id, None
        return principal.pod_id, principal.inbox_id  # the organization route makes a webhook of the key's own scope

    def _check_filters(self, uow: UnitOfWork, principal: Principal, pod_ids: list[str], inbox_ids: list[str]) -> None:
        for name, values in (("pod_ids", pod_ids), ("inbox_ids", inbox_ids)):
            if len(values) > MAX_FILTER_IDS:
                raise InvalidInput(f"{name} may list at most {MAX_FILTER_IDS} ids", field=name)
        for pod_id in pod_ids:
            try:
                visible_pod(uow, principal, pod_id)
            except NotFound as error:
                raise InvalidInput(f"unknown pod {pod_id}", field="pod_ids") from error
        for inbox_id in inbox_ids:
            try:
                visible_inbox(uow, principal, inbox_id)
            except NotFound as error:
                raise InvalidInput(f"unknown inbox {inbox_id}", field="inbox_ids") from error

    def create(self, principal: Principal, route: WebhookRoute, new: NewWebhook) -> Webhook:
        require(principal, "webhook_create")
        event_types = check_event_types(principal, new.event_types, required=True)
        headers = check_headers(new.headers) if new.headers is not None else {}
        if new.headers is not None and not headers:
            raise InvalidInput("headers must have at least one entry when given", field="headers")
        if len(headers) > MAX_HEADERS:
            raise InvalidInput(f"at most {MAX_HEADERS} headers", field="headers")
        url = self.check_url(new.url)
        inbox_ids = list(dict.fromkeys(value.lower() for value in new.inbox_ids))
        pod_ids = list(dict.fromkeys(new.pod_ids))
        with self._uow(write=True) as uow:
            pod_id, inbox_id = self._owner(uow, principal, route)
            if new.client_id is not None:
                existing = uow.webhooks.get_by_client_id(principal.organization_id, new.client_id)
                if existing is not None and _owner_visible(principal, existing):
                    return existing
            self._check_filters(uow, principal, pod_ids, inbox_ids)
            now = self._clock.now()
            webhook = Webhook(
                webhook_id=new_id("wh"),
                organization_id=principal.organization_id,
                pod_id=pod_id,
                inbox_id=inbox_id,
                url=url,
                event_types=list(event_types),
                pod_ids=pod_ids,
                inbox_ids=inbox_ids,
                secret=new_secret(),
                enabled=True,
                client_id=new.client_id,
                headers=headers,
                failing_since=None,
                enabled_at=now,
                created_at=now,
                updated_at=now,
            )
            uow.webhooks.add(webhook)
            uow.commit()
        return webhook

    def list_webhooks(self, principal: Principal, route: WebhookRoute, params: ListParams) -> Page[Webhook]:
        require(principal, "webhook_read")
        with self._uow() as uow:
            scope = owned_scope(uow, principal, route.pod_id, route.inbox_id)
            filters = f"{scope.pod_id}|{scope.inbox_id}|{scope.exact_pod_scope}|{params.ascending}"
            return paginate(
                self._tokens,
                "webhooks.list",
                filters,
                params,
                lambda page: uow.webhooks.list_page(scope, page),
                lambda webhook: (webhook.created_at.isoformat(), webhook.webhook_id),
            )

    def _find(self, uow: UnitOfWork, principal: Principal, route: WebhookRoute, webhook_id: str) -> Webhook:
        if route.inbox_id is not None:
            route = WebhookRoute(inbox_id=visible_inbox(uow, principal, route.inbox_id).inbox_id)
        elif route.pod_id is not None:
            visible_pod(uow, principal, route.pod_id)
        webhook = uow.webhooks.get(webhook_id)
        if (
            webhook is None
            or not _owner_visible(principal, webhook)
            or (route.inbox_id is not None and webhook.inbox_id != route.inbox_id)
            or (route.pod_id is not None and (webhook.pod_id != route.pod_id or webhook.inbox_id is not None))
        ):
            raise NotFound("Webhook not found")
        return webhook

    def get(self, principal: Principal, route: WebhookRoute, webhook_id: str) -> Webhook:
        require(principal, "webhook_read")
        with self._uow() as uow:
            return self._find(uow, principal, route, webhook_id)

    def update(self, principal: Principal, route: WebhookRoute, webhook_id: str, change: WebhookChange) -> Webhook:
        require(principal, "webhook_update")
        event_types = check_event_types(principal, change.event_types, required=False)
        with self._uow(write=True) as uow:
            webhook = self._find(uow, principal, route, webhook_id)
            added_inboxes = [value.lower() for value in change.add_inbox_ids]
            self._check_filters(uow, principal, change.add_pod_ids, added_inboxes)
            removed_pods, removed_inboxes = set(change.remove_pod_ids), {v.lower() for v in change.remove_inbox_ids}
            pod_ids = [p for p in dict.fromkeys([*webhook.pod_ids, *change.add_pod_ids]) if p not in removed_pods]
            inbox_ids = [i for i in dict.fromkeys([*webhook.inbox_ids, *added_inboxes]) if i not in removed_inboxes]
            for name, values in (("pod_ids", pod_ids), ("inbox_ids", inbox_ids)):
                if len(values) > MAX_FILTER_IDS:
                    raise InvalidInput(f"{name} may list at most {MAX_FILTER_IDS} ids", field=name)
            webhook.pod_ids, webhook.inbox_ids = pod_ids, inbox_ids
            if event_types:
                webhook.event_types = list(event_types)
            now = self._clock.now()
            if change.enabled is not None and change.enabled != webhook.enabled:
                webhook.enabled = change.enabled
                webhook.failing_since = None
                if change.enabled:
                    webhook.enabled_at = now
                else:  # events during disablement are not delivered later (spec §3.10)
                    uow.webhook_deliveries.abandon_pending(webhook.webhook_id, "webhook disabled", now)
            webhook.updated_at = now
            uow.webhooks.update(webhook)
            uow.commit()
            return webhook

    def delete(self, principal: Principal, route: WebhookRoute, webhook_id: str) -> None:
        require(principal, "webhook_delete")
        with self._uow(write=True) as uow:
            uow.webhooks.delete(self._find(uow, principal, route, webhook_id).webhook_id)
            uow.commit()

    def header_names(self, principal: Principal, route: WebhookRoute, webhook_id: str) -> list[str]:
        return sorted(self.get(principal, route, webhook_id).headers)

    def update_headers(
        self,
        principal: Principal,
        route: WebhookRoute,
        webhook_id: str,
        headers: dict[str, str] | None,
        remove: list[str] | None,
    ) -> None:
        require(principal, "webhook_update")
        given = check_headers(headers or {})
        removed = {name.lower() for name in remove or []}
        if not given and not removed:
            raise InvalidInput("give headers to set or remove_headers", field="headers")
        both = sorted(name for name in given if name.lower() in removed)
        if both:
            raise InvalidInput("a header cannot be both set and removed: " + ", ".join(both), field="remove_headers")
        with self._uow(write=True) as uow:
            webhook = self._find(uow, principal, route, webhook_id)
            kept = {k: v for k, v in webhook.headers.items() if k.lower() not in removed | {n.lower() for n in given}}
            webhook.headers = kept | given
            if len(webhook.headers) > MAX_HEADERS:
                raise InvalidInput(f"at most {MAX_HEADERS} headers", field="headers")
            webhook.updated_at = self._clock.now()
            uow.webhooks.update(webhook)
            uow.commit()
