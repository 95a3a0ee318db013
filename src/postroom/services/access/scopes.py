"""Resolving route targets against the caller's scope: anything out of scope is reported as not found."""

from __future__ import annotations

from postroom.domain.access import Pod, Principal
from postroom.domain.inbox import Inbox
from postroom.domain.listing import KeyScope
from postroom.errors import NotFound
from postroom.services.ports import UnitOfWork


def visible_pod(uow: UnitOfWork, principal: Principal, pod_id: str) -> Pod:
    pod = uow.pods.get(principal.organization_id, pod_id)
    if pod is None or not principal.sees_pod(pod.pod_id):
        raise NotFound("Pod not found")
    return pod


def visible_inbox(uow: UnitOfWork, principal: Principal, inbox_id: str, pod_id: str | None = None) -> Inbox:
    """The inbox if the caller may see it (and, on a pod route, if the pod is visible and holds it)."""
    if pod_id is not None:
        visible_pod(uow, principal, pod_id)
    inbox = uow.inboxes.get(inbox_id.lower())
    if (
        inbox is None
        or inbox.organization_id != principal.organization_id
        or not principal.sees_inbox(inbox.pod_id, inbox.inbox_id)
        or (pod_id is not None and inbox.pod_id != pod_id)
    ):
        raise NotFound("Inbox not found")
    return inbox


def owned_scope(uow: UnitOfWork, principal: Principal, pod_id: str | None, inbox_id: str | None) -> KeyScope:
    """What a list of scoped resources (API keys, webhooks) covers on an inbox, pod or organization route."""
    if inbox_id is not None:
        return KeyScope(principal.organization_id, inbox_id=visible_inbox(uow, principal, inbox_id).inbox_id)
    if pod_id is not None:
        pod = visible_pod(uow, principal, pod_id)
        return KeyScope(principal.organization_id, pod_id=pod.pod_id, exact_pod_scope=True)
    return KeyScope(principal.organization_id, principal.pod_id, principal.inbox_id)
