"""The inbound pipeline of spec §5.2 before and after storing: refuse, or classify one stored copy per inbox.

Order: DMARC fail under p=reject (after pct) → refused; no passing, aligned authentication → ``unauthenticated``;
spam → ``spam``; the receive/reply lists block the sender → ``blocked``; otherwise ``received``. Exactly one of
these labels (with ``unread``) goes on each stored copy, and its event type with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from postroom.domain import labels as system
from postroom.domain.authentication import Verdict
from postroom.domain.events import (
    MESSAGE_RECEIVED,
    MESSAGE_RECEIVED_BLOCKED,
    MESSAGE_RECEIVED_SPAM,
    MESSAGE_RECEIVED_UNAUTHENTICATED,
)
from postroom.domain.inbox import Inbox
from postroom.domain.lists import Direction
from postroom.domain.spam import SpamEnvelope, SpamVerdict
from postroom.errors import Refused
from postroom.services.ports import SpamClassifier, UnitOfWork
from postroom.services.trust.authentication import Connection, InboundAuthenticator
from postroom.services.trust.lists import evaluate
from postroom.services.trust.relays import Network, client_behind_relays

SPAM_STATUS = "X-Spam-Status"


@dataclass(frozen=True)
class Screened:
    verdict: Verdict
    spam: SpamVerdict | None
    trace: list[tuple[str, str]]  # header fields to write on top of the stored copy


@dataclass(frozen=True)
class Classification:
    label: str  # received, unauthenticated, spam or blocked
    event_type: str

    @property
    def labels(self) -> list[str]:
        return [self.label, system.UNREAD]


RECEIVED = Classification(system.RECEIVED, MESSAGE_RECEIVED)
UNAUTHENTICATED = Classification(system.UNAUTHENTICATED, MESSAGE_RECEIVED_UNAUTHENTICATED)
SPAM = Classification(system.SPAM, MESSAGE_RECEIVED_SPAM)
BLOCKED = Classification(system.BLOCKED, MESSAGE_RECEIVED_BLOCKED)


class Screening:
    def __init__(
        self, authenticator: InboundAuthenticator, spam: SpamClassifier, trusted_relays: tuple[Network, ...] = ()
    ) -> None:
        self._authenticator = authenticator
        self._spam = spam
        self._trusted_relays = trusted_relays

    @property
    def spam_filter(self) -> SpamClassifier:
        return self._spam

    def from_smtp(self, raw: bytes, mail_from: str | None, recipients: list[str], connection: Connection) -> Screened:
        """Authenticate and score mail from an SMTP client; raises Refused when it must not be taken."""
        connection = client_behind_relays(connection, raw, self._trusted_relays)
        verdict = self._authenticator.authenticate(raw, mail_from, connection)
        if (refusal := verdict.refusal) is not None:
            raise Refused(refusal)
        envelope = SpamEnvelope(connection.ip, connection.helo, mail_from, tuple(recipients))
        spam = self._spam.classify(raw, envelope)
        if spam is not None and spam.refuses:
            raise Refused("Message classified as spam")
        if spam is not None and spam.defers:
            raise Refused("Message looks suspicious, try again later", temporary=True)
        trace = [self._authenticator.header(verdict)]
        if spam is not None:
            trace.append((SPAM_STATUS, spam.status_header()))
        return Screened(verdict, spam, trace)

    def from_inbox(self, sender_inbox: str) -> Screened:
        """Mail an inbox of this server sent: authenticated by construction, not scored."""
        verdict = self._authenticator.local(sender_inbox)
        return Screened(verdict, None, [self._authenticator.header(verdict)])


def is_reply_to_us(uow: UnitOfWork, inbox: Inbox, in_reply_to: str | None) -> bool:
    """Whether the message answers one this inbox sent (so the reply lists apply, not the receive lists)."""
    if not in_reply_to:
        return False
    original = uow.mail.get_message(inbox.inbox_id, in_reply_to)
    return original is not None and system.SENT in original.labels


def classify(
    uow: UnitOfWork, inbox: Inbox, screened: Screened, sender: str | None, in_reply_to: str | None
) -> Classification:
    if not screened.verdict.authenticated:
        return UNAUTHENTICATED
    if screened.spam is not None and screened.spam.is_spam:
        return SPAM
    if sender:
        direction: Direction = "reply" if is_reply_to_us(uow, inbox, in_reply_to) else "receive"
        if not evaluate(uow, inbox, direction, sender).allowed:
            return BLOCKED
    return RECEIVED
