"""Allow and block lists (spec §3.12, §8): entries, how an address matches them, and which entry decides.

Rules: entries are lower-cased addresses or domains. A domain entry matches its domain and every subdomain; an
address entry without a ``+tag`` matches the address with any tag. Scopes are asked narrowest first (inbox, pod,
organization) and the first scope holding a matching entry decides; inside a scope the most specific entry wins
(tagged address, address, domain, parent domain) and block beats allow at the same rank. With no matching entry
anywhere, a non-empty allow list at any scope admits nobody else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from postroom.errors import InvalidInput

Direction = Literal["send", "receive", "reply"]
ListType = Literal["allow", "block"]
EntryType = Literal["email", "domain"]
DIRECTIONS: tuple[Direction, ...] = ("send", "receive", "reply")
LIST_TYPES: tuple[ListType, ...] = ("allow", "block")
MAX_REASON_CHARS = 1000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


@dataclass(frozen=True)
class ListEntry:
    organization_id: str
    pod_id: str | None  # set for pod and inbox entries
    inbox_id: str | None  # set for inbox entries
    direction: Direction
    list_type: ListType
    entry: str
    entry_type: EntryType
    reason: str | None
    read_only: bool
    created_at: datetime

    @property
    def scope_id(self) -> str:
        """The id of the scope the entry belongs to: the inbox's, else the pod's, else the organization's."""
        return self.inbox_id or self.pod_id or self.organization_id


@dataclass(frozen=True)
class ListDecision:
    allowed: bool
    entry: ListEntry | None  # the entry that decided; None when no entry matched
    reason: str


def check_direction(value: str) -> Direction:
    for direction in DIRECTIONS:
        if value == direction:
            return direction
    raise InvalidInput("direction must be send, receive or reply", field="direction")


def check_list_type(value: str) -> ListType:
    for list_type in LIST_TYPES:
        if value == list_type:
            return list_type
    raise InvalidInput("type must be allow or block", field="type")


def _valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return len(domain) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


def normalize_entry(raw: str, field: str = "entry") -> tuple[str, EntryType]:
    """An address (``local@domain``) or a domain, lower-cased; anything else is InvalidInput."""
    value = raw.strip().lower().rstrip(".")
    try:
        value = value.encode("idna").decode("ascii") if "@" not in value else value
    except UnicodeError as error:
        raise InvalidInput("entry is not a valid email address or domain", field=field) from error
    local, at, domain = value.rpartition("@")
    if at:
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise InvalidInput("entry is not a valid email address or domain", field=field) from error
        if not _LOCAL.match(local) or not _valid_domain(domain):
            raise InvalidInput("entry is not a valid email address or domain", field=field)
        return f"{local}@{domain}", "email"
    if not _valid_domain(value):
        raise InvalidInput("entry is not a valid email address or domain", field=field)
    return value, "domain"


def match_keys(address: str) -> list[str]:
    """Entries that would match ``address``, most specific first: itself, untagged, its domain and parents."""
    value = address.strip().removeprefix("<").removesuffix(">").lower().rstrip(".")
    local, at, domain = value.rpartition("@")
    if not at or not domain:
        return [value] if value else []
    keys = [value]
    untagged = local.split("+", 1)[0]
    if untagged != local:
        keys.append(f"{untagged}@{domain}")
    labels = domain.split(".")
    keys += [".".join(labels[i:]) for i in range(len(labels) - 1)]
    return keys


def decide(
    address: str, direction: Direction, scope_ids: list[str], matches: list[ListEntry], allow_scopes: set[str]
) -> ListDecision:
    """The decision for ``address`` given the matching entries and the scopes that keep an allow list."""
    keys = match_keys(address)
    rank = {key: index for index, key in enumerate(keys)}
    for scope_id in scope_ids:
        here = [entry for entry in matches if entry.scope_id == scope_id and entry.entry in rank]
        if here:
            best = min(here, key=lambda entry: (rank[entry.entry], entry.list_type != "block"))
            if best.list_type == "allow":
                return ListDecision(True, best, f"{address} is on the {direction} allow list")
            why = f"{address} is on the {direction} block list"
            return ListDecision(False, best, f"{why} ({best.reason})" if best.reason else why)
    if allow_scopes & set(scope_ids):
        return ListDecision(False, None, f"{address} is not on the {direction} allow list")
    return ListDecision(True, None, "no list entry matches")
