"""Applying delivery results to a sent message: recipient states, its lifecycle labels, events, send-block entries.

One place for the rules, whether the result came from an SMTP reply, local delivery or a DSN bounced back later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from postroom.domain.events import MESSAGE_BOUNCED, MESSAGE_DELIVERED, MESSAGE_REJECTED, OutboxEvent
from postroom.domain.ids import new_id
from postroom.domain.message import Message
from postroom.domain.outbound import DeliveryResult, RecipientState, bounce_sub_type, enhanced_status, is_hard_bounce
from postroom.services.mail.labels import relabel
from postroom.services.ports import UnitOfWork
from postroom.services.trust.lists import add_bounce

LIFECYCLE_LABELS = {"delivered": "delivered", "delayed": "delayed", "bounced": "bounced", "rejected": "rejected"}


def apply_results(
    uow: UnitOfWork, message: Message, results: Sequence[DeliveryResult], now: datetime, *, give_up: bool
) -> list[str]:
    """Record each result; returns the addresses still temporarily failing (to retry unless ``give_up``)."""
    delivered: list[str] = []
    bounced: dict[str, list[dict[str, str]]] = {}
    rejected: list[str] = []
    retry: list[str] = []
    for result in results:
        status = enhanced_status(result)
        state: RecipientState
        if result.outcome == "delivered":
            state = "delivered"
            delivered.append(result.address)
        elif result.outcome == "rejected":
            state = "rejected"
            rejected.append(f"{result.address}: {result.detail}")
        elif result.outcome == "temporary" and not give_up:
            state = "delayed"
            retry.append(result.address)
        else:
            state = "bounced"
            kind = "Permanent" if result.outcome == "permanent" else "Transient"
            bounced.setdefault(kind, []).append({"address": result.address, "status": status})
            if result.outcome == "permanent" and is_hard_bounce(status, result.code):
                add_bounce(uow, message.organization_id, result.address, result.detail, now)
        uow.outbound_jobs.set_recipient(message.row_id, result.address, state, result.code, status, result.detail, now)
    _relabel(uow, message, now)
    if delivered:
        _event(uow, message, MESSAGE_DELIVERED, now, {"recipients": delivered})
    for kind, recipients in bounced.items():
        statuses = [recipient["status"] for recipient in recipients]
        sub_type = bounce_sub_type(statuses[0], None) if kind == "Permanent" else "General"
        _event(uow, message, MESSAGE_BOUNCED, now, {"type": kind, "sub_type": sub_type, "recipients": recipients})
    if rejected:
        _event(uow, message, MESSAGE_REJECTED, now, {"reason": "; ".join(rejected)})
    return retry


def _relabel(uow: UnitOfWork, message: Message, now: datetime) -> None:
    """Lifecycle labels follow the recipients: each present while any recipient is in that state."""
    states = set(uow.outbound_jobs.recipient_states(message.row_id).values())
    wanted = {label for state, label in LIFECYCLE_LABELS.items() if state in states}
    kept = [label for label in message.labels if label not in LIFECYCLE_LABELS.values() or label in wanted]
    if relabel(uow, message, list(dict.fromkeys([*kept, *sorted(wanted)])), now):
        uow.mail.refresh_thread(message.thread_id)


def _event(uow: UnitOfWork, message: Message, event_type: str, now: datetime, data: dict[str, object]) -> None:
    uow.outbox.add(
        OutboxEvent(
            event_id=new_id("evt"),
            event_type=event_type,
            organization_id=message.organization_id,
            pod_id=message.pod_id,
            inbox_id=message.inbox_id,
            message_row_id=message.row_id,
            created_at=now,
            data=data,
        )
    )
