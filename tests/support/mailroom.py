"""An in-process Postroom for inbound mail tests: the API through a TestClient, SMTP on a free loopback port.

It resolves through the test's own DNS server, so each test publishes exactly the sender records it needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import select

from postroom.runtime import Runtime, build
from postroom.smtp.server import start_smtp
from postroom.storage.tables import outbox
from tests.conftest import make_settings
from tests.support.dns_server import DnsTestServer
from tests.support.server import free_port
from tests.support.trust import send

T = TypeVar("T")
HOST = "mx.postroom.test"


class Mailroom:
    """An in-process Postroom (API client + SMTP on a free port) resolving through the test's DNS server."""

    def __init__(self, database_url: str, data_dir: Path, dns: DnsTestServer, **settings: Any) -> None:
        self.runtime: Runtime = build(
            make_settings(database_url, data_dir, dns_servers=dns.address, smtp_hostname=HOST, **settings),
            migrate=False,
        )
        assert self.runtime.bootstrap.api_key is not None
        self.client = TestClient(self.runtime.api(), raise_server_exceptions=False)
        self.client.headers["Authorization"] = f"Bearer {self.runtime.bootstrap.api_key}"
        self.inbox_id = self.new_inbox("agent")

    def new_inbox(self, username: str) -> str:
        response = self.client.post("/v0/inboxes", json={"username": username})
        assert response.status_code == 200, response.text
        return str(response.json()["inbox_id"])

    def smtp(self, client: Callable[[int], T]) -> T:
        options = self.runtime.smtp_options()
        port = free_port()
        options = type(options)(**{**vars(options), "port": port, "host": "127.0.0.1"})

        async def main() -> T:
            server = await start_smtp(self.runtime.services.receive, options)
            try:
                return await asyncio.wait_for(asyncio.to_thread(client, port), timeout=120)
            finally:
                server.close()
                await server.wait_closed()

        return asyncio.run(main())

    def deliver(self, mail_from: str, raw: bytes, helo: str = "client.example") -> None:
        self.smtp(lambda port: send(port, mail_from, [self.inbox_id], raw, helo))

    def messages(self) -> list[dict[str, Any]]:
        query = "include_unauthenticated=true&include_spam=true&include_blocked=true"
        response = self.client.get(f"/v0/inboxes/{self.inbox_id}/messages?{query}")
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    def only_message(self) -> dict[str, Any]:
        listed = self.messages()
        assert len(listed) == 1, listed
        response = self.client.get(
            f"/v0/inboxes/{self.inbox_id}/messages/{listed[0]['message_id']}",
            params={"include_unauthenticated": "true", "include_spam": "true", "include_blocked": "true"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def raw(self, message_id: str) -> bytes:
        link = self.client.get(f"/v0/inboxes/{self.inbox_id}/messages/{message_id}/raw")
        assert link.status_code == 200, link.text
        content: bytes = self.client.get(link.json()["download_url"]).content
        return content

    def event_types(self) -> list[str]:
        with self.runtime.engine.connect() as connection:
            rows = connection.execute(select(outbox.c.event_type).where(outbox.c.inbox_id == self.inbox_id))
            return [str(row[0]) for row in rows]

    def close(self) -> None:
        self.client.close()
        self.runtime.close()
