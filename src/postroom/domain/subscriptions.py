"""Which events a webhook or a websocket subscriber receives: its scope, its filters and label permissions."""

from __future__ import annotations

from dataclasses import dataclass

from postroom.domain.access import Principal
from postroom.domain.events import (
    EVENT_TYPES,
    MESSAGE_RECEIVED_BLOCKED,
    MESSAGE_RECEIVED_SPAM,
    MESSAGE_RECEIVED_UNAUTHENTICATED,
    STANDARD_EVENT_TYPES,
    OutboxEvent,
)
from postroom.errors import Forbidden, InvalidInput

# Subscribing to a restricted event needs the permission that reads its label (spec §3.10, §5.5).
PERMISSION_FOR_EVENT = {
    MESSAGE_RECEIVED_SPAM: "label_spam_read",
    MESSAGE_RECEIVED_BLOCKED: "label_blocked_read",
    MESSAGE_RECEIVED_UNAUTHENTICATED: "label_unauthenticated_read",
}


@dataclass(frozen=True)
class Subscription:
    """A scope (organization, optionally one pod or one inbox) narrowed by optional filters.

    ``event_types`` empty means every standard type (restricted ones only when listed). ``pod_ids`` and
    ``inbox_ids`` together name the channels wanted; empty means the whole scope.
    """

    organization_id: str
    pod_id: str | None = None
    inbox_id: str | None = None
    event_types: tuple[str, ...] = ()
    pod_ids: tuple[str, ...] = ()
    inbox_ids: tuple[str, ...] = ()

    def wants(self, event: OutboxEvent) -> bool:
        if event.organization_id != self.organization_id:
            return False
        if (self.pod_id is not None and event.pod_id != self.pod_id) or (
            self.inbox_id is not None and event.inbox_id != self.inbox_id
        ):
            return False
        if event.event_type not in (self.event_types or STANDARD_EVENT_TYPES):
            return False
        if self.pod_ids or self.inbox_ids:
            return event.pod_id in self.pod_ids or event.inbox_id in self.inbox_ids
        return True


def check_event_types(principal: Principal, event_types: list[str], *, required: bool) -> tuple[str, ...]:
    """Known types, deduplicated; restricted ones only with their label permission (Forbidden otherwise)."""
    if required and not event_types:
        raise InvalidInput("event_types must list at least one event type", field="event_types")
    unknown = [name for name in event_types if name not in EVENT_TYPES]
    if unknown:
        raise InvalidInput("unknown event type(s): " + ", ".join(unknown), field="event_types")
    for name in event_types:
        permission = PERMISSION_FOR_EVENT.get(name)
        if permission is not None and not principal.may(permission):
            raise Forbidden(
                f"{permission} is forbidden",
                code="missing_permission",
                fix=f"Use an API key with the {permission} permission to receive {name}.",
            )
    return tuple(dict.fromkeys(event_types))


def for_principal(
    principal: Principal, event_types: list[str], pod_ids: list[str], inbox_ids: list[str]
) -> Subscription:
    """A websocket subscription: always inside the key's own scope, whatever ids the client names."""
    return Subscription(
        organization_id=principal.organization_id,
        pod_id=principal.pod_id,
        inbox_id=principal.inbox_id,
        event_types=check_event_types(principal, event_types, required=False),
        pod_ids=tuple(dict.fromkeys(pod_ids)),
        inbox_ids=tuple(dict.fromkeys(name.lower() for name in inbox_ids)),
    )
