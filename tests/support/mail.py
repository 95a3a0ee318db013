"""Sending test mail over real SMTP on loopback."""

from __future__ import annotations

import smtplib
import uuid


def send_mail(
    port: int, to: str, subject: str = "hello", body: str = "Hello there.\n", sender: str = "a@example.com"
) -> str:
    """Deliver one message to ``to`` and return its Message-ID (after the server's 250)."""
    message_id = f"<{uuid.uuid4().hex}@example.com>"
    raw = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
    )
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(sender, [to], raw.encode())
    return message_id
