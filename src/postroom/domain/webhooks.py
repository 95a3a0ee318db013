"""Webhooks and their deliveries: the entity, URL safety rules and the retry schedule (spec §3.10, §4.2)."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from postroom.domain.network import blocked_address, url_target
from postroom.errors import InvalidInput

MAX_FILTER_IDS = 10
SECRET_PREFIX = "whsec_"  # noqa: S105 - the Svix secret prefix, not a secret

# Delays before attempts 2..9 (Svix's schedule plus one more 10 h step): 37.6 hours from the first attempt to
# the last, and still over 30 hours when the jitter shrinks every delay.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000, 36000)
JITTER = 0.2  # each delay is stretched or shrunk by up to 20 %, so failing receivers are not hit in lockstep


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # the schedule ran out, or the webhook was disabled; the row is kept as the dead letter


@dataclass
class Webhook:
    webhook_id: str
    organization_id: str
    pod_id: str | None  # the owning pod (pod and inbox webhooks)
    inbox_id: str | None  # the owning inbox (inbox webhooks)
    url: str
    event_types: list[str]
    pod_ids: list[str]
    inbox_ids: list[str]
    secret: str
    enabled: bool
    client_id: str | None
    headers: dict[str, str]
    failing_since: datetime | None
    enabled_at: datetime  # events from before this (before creation, or while disabled) are never delivered
    created_at: datetime
    updated_at: datetime


@dataclass
class WebhookDelivery:
    """One event for one webhook; ``svix-id`` is its ``event_id``, so it is the same on every attempt."""

    delivery_id: str
    webhook_id: str
    event_id: str
    event_created_at: datetime
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    last_error: str | None
    updated_at: datetime


def retry_delay(schedule: tuple[float, ...], failed_attempts: int, rng: random.Random | None = None) -> float | None:
    """Seconds to wait after ``failed_attempts`` failures, or None when the schedule is exhausted (dead letter)."""
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    base = schedule[failed_attempts - 1]
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return base * spread


def should_disable(failing_since: datetime | None, now: datetime, disable_after: timedelta) -> bool:
    return failing_since is not None and now - failing_since >= disable_after


def url_host(url: str) -> str:
    """The host of an http(s) URL; InvalidInput for anything else."""
    if len(url) > 2048:
        raise InvalidInput("url must be at most 2048 characters", field="url")
    try:
        return url_target(url).host
    except ValueError as error:
        raise InvalidInput(f"url {error}", field="url") from error


def check_addresses(host: str, addresses: list[str], allow_private: bool) -> None:
    if not addresses:
        raise InvalidInput(f"url host {host} does not resolve", field="url")
    if allow_private:
        return
    refused = [address for address in addresses if blocked_address(address)]
    if refused:
        raise InvalidInput(
            f"url host {host} resolves to a private, loopback or link-local address",
            field="url",
            fix="Use a public URL (or set POSTROOM_ALLOW_PRIVATE_URLS=true on a trusted network).",
        )
