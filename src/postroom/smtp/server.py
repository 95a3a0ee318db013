"""Builds the aiosmtpd server for the event loop `postroom serve` runs, with its limits and STARTTLS."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.smtp import SMTP

from postroom.services.receive import ReceiveService
from postroom.smtp.handler import IngressHandler


@dataclass(frozen=True)
class SmtpOptions:
    host: str
    port: int
    hostname: str
    max_message_bytes: int
    max_recipients: int
    idle_timeout_seconds: int
    tls_cert: Path | None = None
    tls_key: Path | None = None


def _tls_context(options: SmtpOptions) -> ssl.SSLContext | None:
    if options.tls_cert is None or options.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(options.tls_cert), str(options.tls_key))
    return context


async def start_smtp(receive: ReceiveService, options: SmtpOptions) -> asyncio.Server:
    handler = IngressHandler(receive, options.max_recipients)
    tls = _tls_context(options)

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname=options.hostname,
            data_size_limit=options.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=tls,
            require_starttls=False,
            timeout=options.idle_timeout_seconds,
            ident="Postroom ESMTP",
        )

    loop = asyncio.get_running_loop()
    return await loop.create_server(protocol, host=options.host, port=options.port)
