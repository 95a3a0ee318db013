"""A delivery worker told to stop hands back the jobs it claimed but had not started sending: their lease is
cleared and they are due at once, so another worker takes them without waiting for the lease to run out."""

from __future__ import annotations

import asyncio
import threading

from fastapi.testclient import TestClient
from sqlalchemy import select

from postroom.domain.outbound import OutboundJob
from postroom.runtime import Runtime
from postroom.services.sending.outbound import PreparedAttempt
from postroom.storage.tables import delivery_jobs


def _queue_one_send(client: TestClient) -> None:
    inbox = client.post("/v0/inboxes", json={"username": "drainer"}).json()["inbox_id"]
    response = client.post(f"/v0/inboxes/{inbox}/messages/send", json={"to": "someone@example.net", "text": "hi"})
    assert response.status_code == 200, response.text


def _job_rows(runtime: Runtime) -> list[dict[str, object]]:
    with runtime.engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(delivery_jobs)).mappings()]


def test_stopping_worker_hands_back_claimed_jobs_it_had_not_started(runtime: Runtime, client: TestClient) -> None:
    _queue_one_send(client)
    outbound = runtime.services.outbound
    screening = threading.Event()
    release_screen = threading.Event()
    real_prepare = outbound.prepare

    def slow_prepare(job: OutboundJob) -> PreparedAttempt:
        screening.set()
        release_screen.wait(10)
        return real_prepare(job)

    outbound.prepare = slow_prepare  # type: ignore[method-assign]
    worker = runtime.delivery_worker()

    async def claim_then_stop() -> None:
        running = asyncio.create_task(worker.run())
        while not screening.is_set():  # the job is claimed and its attempt is in its first step
            await asyncio.sleep(0.01)
        [claimed] = _job_rows(runtime)
        assert claimed["lease"] is not None
        await worker.stop(timeout=5)
        running.cancel()

    try:
        asyncio.run(claim_then_stop())
    finally:
        release_screen.set()
    [job] = _job_rows(runtime)
    assert job["lease"] is None
    assert job["attempts"] == 0  # the claim is undone: it was never attempted
    retaken = outbound.claim(10)  # another worker takes it at once, not after the lease
    assert [j.job_id for j in retaken] == [job["job_id"]]
