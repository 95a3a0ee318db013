"""Svix-compatible signature headers (spec §4.2, §8) made with the ``standardwebhooks`` reference library."""

from __future__ import annotations

from datetime import datetime

from standardwebhooks.webhooks import Webhook as Signer


def signature_headers(secret: str, message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """``svix-id`` (the same on every attempt), ``svix-timestamp`` and ``svix-signature`` for one attempt."""
    signature = Signer(secret).sign(message_id, sent_at, body)
    return {
        "svix-id": message_id,
        "svix-timestamp": str(int(sent_at.timestamp())),
        "svix-signature": signature,
    }
