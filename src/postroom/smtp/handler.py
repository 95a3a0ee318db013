"""The SMTP handler: RCPT accepts only this server's active inboxes (never relays); DATA stores, then 250."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from postroom.services.receive import Delivery, ReceiveService, inbox_address
from postroom.smtp.replies import ACCEPTED, NO_RECIPIENTS, RECIPIENT_OK, TOO_MANY_RECIPIENTS, TRY_AGAIN, reply_for

log = logging.getLogger("postroom.smtp")


class IngressHandler:
    def __init__(self, receive: ReceiveService, max_recipients: int) -> None:
        self._receive = receive
        self._max_recipients = max_recipients

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self._max_recipients:
            return TOO_MANY_RECIPIENTS
        try:
            await asyncio.to_thread(self._receive.accept_recipient, address)
        except Exception as error:
            reply = reply_for(error)
            if reply == TRY_AGAIN:
                log.exception("RCPT %s failed", address)
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw: Any = envelope.original_content if envelope.original_content is not None else envelope.content
        if not envelope.rcpt_tos or not isinstance(raw, bytes):
            return NO_RECIPIENTS
        delivery = Delivery(
            raw=raw,
            mail_from=envelope.mail_from,
            inbox_ids=[inbox_address(address) for address in envelope.rcpt_tos],
        )
        try:
            stored = await asyncio.to_thread(self._receive.deliver, delivery)
        except Exception:
            log.exception("storing a message from %s failed", envelope.mail_from)
            return TRY_AGAIN
        log.info("accepted message from %s for %d inbox(es)", envelope.mail_from, len(stored))
        return ACCEPTED
