"""The baseline for the ingest benchmark: a bare aiosmtpd server that answers 250 and discards every message.

Run as its own process (``python bench/ingest_bare.py PORT``) so it does not share a GIL with the load generator.
"""

from __future__ import annotations

import asyncio
import sys

from aiosmtpd.smtp import SMTP, Envelope, Session


class DiscardHandler:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        return "250 OK"


async def main(port: int) -> None:
    handler = DiscardHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bare", data_size_limit=25 * 1024 * 1024, decode_data=False),
        host="127.0.0.1",
        port=port,
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
