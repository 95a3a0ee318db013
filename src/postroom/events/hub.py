"""The websocket hub: every connected client's subscription and a bounded queue of frames per client.

Publishing never waits: a client whose queue is full is dropped with a reason, so a slow reader can neither
delay the others nor make the server hold an unbounded backlog for it.
"""

from __future__ import annotations

import asyncio

from postroom.domain.events import OutboxEvent
from postroom.domain.subscriptions import Subscription


class Channel:
    def __init__(self, hub: Hub, max_queue: int) -> None:
        self._hub = hub
        self._max_queue = max_queue
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=max_queue)
        self._subscription: Subscription | None = None
        self._drop_reason: str | None = None

    @property
    def drop_reason(self) -> str | None:
        return self._drop_reason

    def subscribe(self, subscription: Subscription) -> None:
        self._subscription = subscription

    def offer(self, event: OutboxEvent, frame: str) -> None:
        if self._drop_reason is not None or self._subscription is None or not self._subscription.wants(event):
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._drop(f"client too slow: {self._max_queue} events waiting")

    def _drop(self, reason: str) -> None:
        self._drop_reason = reason
        while not self._queue.empty():  # free the backlog now, not when the socket finally closes
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        self._hub.remove(self)

    async def next_frame(self) -> str | None:
        if self._drop_reason is not None and self._queue.empty():
            return None
        return await self._queue.get()

    def close(self) -> None:
        self._hub.remove(self)


class Hub:
    def __init__(self, max_queue: int) -> None:
        self._max_queue = max_queue
        self._channels: set[Channel] = set()

    def open(self) -> Channel:
        channel = Channel(self, self._max_queue)
        self._channels.add(channel)
        return channel

    def remove(self, channel: Channel) -> None:
        self._channels.discard(channel)

    def publish(self, event: OutboxEvent, frame: str) -> None:
        for channel in list(self._channels):
            channel.offer(event, frame)

    @property
    def client_count(self) -> int:
        return len(self._channels)
