"""A websocket client that stops reading is dropped with a reason and never holds back the others.

The slow client is a bare socket speaking just enough RFC 6455 to subscribe; it then reads nothing (client
libraries keep reading into memory, which would hide the stall from the server).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from pathlib import Path

import pytest
from agentmail import AsyncAgentMail
from agentmail.environment import AgentMailEnvironment
from agentmail.events import MessageReceivedEvent
from agentmail.inboxes import CreateInboxRequest
from agentmail.websockets import Subscribe, Subscribed

from tests.support.mail import send_mail
from tests.support.server import running_server

COUNT = 40
BODY = "All work and no play makes a slow reader fall behind, line after line.\n" * 2800  # about 200 KB
CLOSE = 0x8


class StalledClient:
    def __init__(self, port: int, api_key: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no window autotuning
        self.sock.connect(("127.0.0.1", port))
        self.sock.settimeout(30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /v0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {api_key}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        assert len(payload) < 126
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("connection closed without a close frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frame(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(self._read(2), "big")
        elif length == 127:
            length = int.from_bytes(self._read(8), "big")
        return first & 0x0F, self._read(length)

    def until_closed(self) -> tuple[int, int, str]:
        """Read every frame the server still sends; returns (frames before the close, close code, reason)."""
        frames = 0
        while True:
            opcode, payload = self.frame()
            if opcode == CLOSE:
                return frames, int.from_bytes(payload[:2], "big"), payload[2:].decode()
            frames += 1


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_slow_client_is_dropped_and_the_others_get_everything(backend: str, tmp_path: Path) -> None:
    with running_server(backend, tmp_path, extra_env={"POSTROOM_WEBSOCKET_QUEUE_SIZE": "4"}) as server:
        ws = server.base_url.replace("http", "ws", 1)
        environment = AgentMailEnvironment(http=server.base_url, websockets=ws)
        sdk = AsyncAgentMail(api_key=server.api_key, environment=environment)
        inbox = await sdk.inboxes.create(request=CreateInboxRequest(username="crowd"))
        stalled = StalledClient(server.port, server.api_key)
        stalled.send_text(json.dumps({"type": "subscribe", "inbox_ids": [inbox.inbox_id]}))
        opcode, ack = stalled.frame()
        assert opcode == 0x1  # text
        assert json.loads(ack) == {"type": "subscribed", "inbox_ids": [inbox.inbox_id]}
        async with sdk.websockets.connect() as fast:
            await fast.send_subscribe(Subscribe(inbox_ids=[inbox.inbox_id]))
            assert isinstance(await asyncio.wait_for(fast.recv(), 30), Subscribed)
            sent = []
            for n in range(COUNT):
                sent.append(await asyncio.to_thread(send_mail, server.smtp_port, inbox.inbox_id, f"big {n}", BODY))
            seen = []
            for _ in sent:
                event = await asyncio.wait_for(fast.recv(), 60)
                assert isinstance(event, MessageReceivedEvent)
                seen.append(event.message.message_id)
            assert seen == sent  # the stalled client held nobody back
        frames, code, reason = await asyncio.to_thread(stalled.until_closed)
        assert frames < COUNT  # what the socket buffers held when the server gave up on it
        assert code == 1008
        assert reason == "client too slow: 4 events waiting"
        stalled.sock.close()
