"""Retention on both databases: finished rows past their time go, undelivered work and recent rows stay, and a
sweep running beside SMTP ingest loses nothing."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from postroom.config import Settings
from postroom.domain.access import Principal
from postroom.domain.labels import LabelChange
from postroom.domain.metrics import (
    HOUR,
    MINUTE,
    RATE_RECIPIENTS,
    SENT_RECIPIENTS,
    MetricOwner,
    cell_of,
    epoch_seconds,
)
from postroom.domain.outbound import DeliveryResult
from postroom.domain.webhooks import DeliveryStatus
from postroom.errors import NotFound
from postroom.runtime import Runtime, build
from postroom.services.access.inboxes import NewInbox
from postroom.services.events.webhooks import NewWebhook, WebhookRoute
from postroom.services.mail.receive import FromInbox, InboundMessage
from postroom.services.metrics.queries import MINUTE_ROWS_READ, MetricsQuery
from postroom.services.sending.outgoing import SendRequest
from postroom.services.upkeep.retention import RetentionPolicy
from postroom.services.upkeep.ticker import RetentionTicker
from postroom.storage.blobs.factory import blob_store_from_url
from postroom.storage.metrics import defer_rollups, flush_rollups
from postroom.storage.tables import (
    delivery_jobs,
    delivery_recipients,
    idempotency_keys,
    messages,
    metric_rollups,
    outbox,
)
from tests.conftest import make_settings
from tests.support.clock import ManualClock, TestClock
from tests.support.inprocess import serving
from tests.support.mail import send_mail
from tests.support.server import free_port

LOCAL = FromInbox("colleague@postroom.localhost")
TRASH = LabelChange(add=("trash",))


@pytest.fixture
def upkeep(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    clock = ManualClock()
    settings = make_settings(
        database_url,
        tmp_path,
        allow_private_urls=True,
        webhook_retry_schedule="0",
        retention_batch_size=2,  # several batches per kind of row
        retention_trash_days=5,
    )
    runtime = build(settings, migrate=False, clock=clock)
    yield runtime
    runtime.close()


def principal(runtime: Runtime) -> Principal:
    assert runtime.bootstrap.api_key is not None
    return runtime.services.access.authenticate(f"Bearer {runtime.bootstrap.api_key}")


def receive(runtime: Runtime, inbox_id: str, n: int) -> str:
    message_id = f"<r{n}@example.com>"
    raw = f"From: a@example.com\r\nTo: {inbox_id}\r\nSubject: s{n}\r\nMessage-ID: {message_id}\r\n\r\nbody {n}\r\n"
    runtime.services.receive.store(InboundMessage(raw.encode(), "a@example.com", [inbox_id], origin=LOCAL))
    return message_id


def count(runtime: Runtime, table: Table) -> int:
    with runtime.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_finished_rows_go_and_undelivered_work_stays(upkeep: Runtime) -> None:
    runtime = upkeep
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    caller = principal(runtime)
    inbox = runtime.services.inboxes.create(caller, NewInbox(username="keeper"))
    dispatch = runtime.services.dispatch
    webhook = runtime.services.webhooks.create(
        caller, WebhookRoute(), NewWebhook(url="http://127.0.0.1:9/hook", event_types=["message.received"])
    )

    # Webhook deliveries: one delivered, one dead letter, one waiting for its retry; one event not dispatched.
    for n in (1, 2, 3):
        receive(runtime, inbox.inbox_id, n)
    events = dispatch.claim_events(100)
    [first] = dispatch.dispatch([(event, '{"x": 1}') for event in events])
    second = dispatch.succeeded(first)
    assert second is not None
    dispatch.failed(second, "HTTP 500")
    again = dispatch.claim_attempt(second.delivery.delivery_id)
    assert again is not None
    dispatch.failed(again, "HTTP 500")  # the schedule "0" allows one retry: now a dead letter
    third = dispatch.claim_attempt(dispatch.webhook_deliveries(webhook.webhook_id)[2].delivery_id)
    assert third is not None
    dispatch.failed(third, "HTTP 503")  # pending, retried later
    receive(runtime, inbox.inbox_id, 4)  # its outbox row stays undispatched
    assert [d.status for d in dispatch.webhook_deliveries(webhook.webhook_id)] == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.DEAD,
        DeliveryStatus.PENDING,
    ]

    # Sent mail: one message fully delivered, one with a job still due (one recipient already delivered).
    send = runtime.services.send
    done = send.send(caller, inbox.inbox_id, SendRequest(to=["x@example.org"], subject="done", text="t"), "key-1")
    busy = send.send(
        caller, inbox.inbox_id, SendRequest(to=["y@example.org", "z@example.net"], subject="busy", text="t"), None
    )
    outbound = runtime.services.outbound
    for job in outbound.claim(100):
        if job.domain == "example.net":
            outbound.record(job, [DeliveryResult("z@example.net", "temporary", 451, "4.3.0 later")])
        else:
            outbound.record(job, [DeliveryResult(job.recipients[0], "delivered", 250, "2.0.0 OK")])
    assert count(runtime, delivery_jobs) == 1
    assert count(runtime, idempotency_keys) == 1

    # Trash: an old received message, and a sent message in the trash whose delivery is not finished.
    trashed = receive(runtime, inbox.inbox_id, 5)
    runtime.services.mail.update_message(caller, inbox.inbox_id, trashed, TRASH)
    runtime.services.mail.update_message(caller, inbox.inbox_id, busy.message_id, TRASH)
    raw_key = runtime.services.mail.get_message(caller, inbox.inbox_id, trashed).raw_blob_key
    blobs = blob_store_from_url(None, runtime.settings.data_dir)
    assert blobs.size(raw_key) is not None

    assert all(n == 0 for n in runtime.services.retention.sweep().values())  # nothing is old enough yet

    clock.advance(days=8)
    fresh = receive(runtime, inbox.inbox_id, 6)
    runtime.services.mail.update_message(caller, inbox.inbox_id, fresh, TRASH)  # in the trash for less than 5 days
    deleted = runtime.services.retention.sweep()
    assert deleted["webhook_deliveries"] == 1
    assert deleted["dead_letters"] == 0  # kept 30 days
    assert deleted["idempotency_keys"] == 1
    assert deleted["trash"] == 1
    assert deleted["delivery_results"] == 0  # kept 30 days
    assert [d.status for d in dispatch.webhook_deliveries(webhook.webhook_id)] == [
        DeliveryStatus.DEAD,
        DeliveryStatus.PENDING,
    ]
    with pytest.raises(NotFound):
        runtime.services.mail.get_message(caller, inbox.inbox_id, trashed)
    assert blobs.size(raw_key) is None  # its blobs went after the commit
    runtime.services.mail.get_message(caller, inbox.inbox_id, busy.message_id)  # its job is still due
    runtime.services.mail.get_message(caller, inbox.inbox_id, fresh)

    clock.advance(days=25)
    deleted = runtime.services.retention.sweep()
    assert deleted["dead_letters"] == 1
    assert deleted["delivery_results"] == 1  # the delivered message's; the busy one's wait for its job
    [pending] = dispatch.webhook_deliveries(webhook.webhook_id)
    assert pending.status is DeliveryStatus.PENDING
    with runtime.engine.connect() as connection:
        left = {
            row[0]
            for row in connection.execute(select(outbox.c.event_id, outbox.c.dispatched_at))
            if row[1] is None or row[0] == pending.event_id
        }
        kept_events = set(connection.execute(select(outbox.c.event_id)).scalars())
        recipients = set(connection.execute(select(delivery_recipients.c.address)).scalars())
        thread_of_trash = connection.execute(
            select(func.count()).select_from(messages).where(messages.c.message_id == trashed)
        ).scalar_one()
    assert kept_events == left  # undispatched events and the one a pending delivery needs
    assert pending.event_id in kept_events
    assert recipients == {"y@example.org", "z@example.net"}
    assert thread_of_trash == 0
    assert count(runtime, delivery_jobs) == 1
    runtime.services.mail.get_message(caller, inbox.inbox_id, done.message_id)  # sent mail itself is kept
    assert all(n == 0 for n in runtime.services.retention.sweep().values())


def test_sweeping_beside_smtp_ingest_loses_nothing(database_url: str, tmp_path: Path) -> None:
    """SMTP clients deliver while a second sweeper keeps trashing, ageing (the clock jumps two days) and sweeping
    mail of its own, beside the server's retention loop: every message sent is stored and its event kept."""
    clock = TestClock()
    settings = make_settings(
        database_url,
        tmp_path,
        api_port=free_port(),
        smtp_port=free_port(),
        retention_batch_size=3,
        retention_poll_seconds=0.01,
        retention_trash_days=1,
        retention_events_days=1,
        run_dispatcher=False,  # the events of the mail sent stay undispatched: undelivered work to keep
    )
    runtime = build(settings, migrate=False, clock=clock)
    try:
        caller = principal(runtime)
        inbox = runtime.services.inboxes.create(caller, NewInbox(username="busy"))
        sent: list[str] = []
        lock = threading.Lock()
        failures: list[BaseException] = []
        swept: list[int] = []

        def ingest(worker: int) -> None:
            try:
                for n in range(8):
                    message_id = send_mail(settings.smtp_port, inbox.inbox_id, subject=f"w{worker} n{n}")
                    with lock:
                        sent.append(message_id)
            except BaseException as error:  # reported by the test thread
                failures.append(error)

        def sweep_own_trash(stop: threading.Event) -> None:
            n = 0
            try:
                while not stop.is_set() or len(swept) < 2:
                    for _ in range(4):
                        n += 1
                        message_id = receive(runtime, inbox.inbox_id, n)
                        runtime.services.mail.update_message(caller, inbox.inbox_id, message_id, TRASH)
                    clock.advance(days=2)
                    swept.append(runtime.services.retention.sweep()["trash"])
            except BaseException as error:
                failures.append(error)

        stop = threading.Event()
        with serving(runtime):
            sweeper = threading.Thread(target=sweep_own_trash, args=(stop,))
            sweeper.start()
            senders = [threading.Thread(target=ingest, args=(worker,)) for worker in range(3)]
            for thread in senders:
                thread.start()
            for thread in senders:
                thread.join()
            stop.set()
            sweeper.join()
        assert failures == []
        assert len(swept) >= 2  # (the server's own retention loop takes part of each round's trash)
        clock.advance(days=2)
        runtime.services.retention.sweep()
        stored = runtime.services.mail.batch_get(caller, inbox.inbox_id, sent)
        assert sorted(m.message_id for m in stored) == sorted(sent)
        with runtime.engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(messages)).scalar_one() == len(sent)
            rows = {m.row_id for m in stored}
            kept = set(connection.execute(select(outbox.c.message_row_id)).scalars())
        assert rows <= kept  # days old by now, but never dispatched: kept
    finally:
        runtime.close()


def test_several_sweepers_share_the_work(upkeep: Runtime) -> None:
    """Three retention loops at once (on PostgreSQL, batches taken with SKIP LOCKED): every old row is deleted
    exactly once between them, and none of them fails."""
    runtime = upkeep
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    caller = principal(runtime)
    inbox = runtime.services.inboxes.create(caller, NewInbox(username="shared"))
    for n in range(30):
        receive(runtime, inbox.inbox_id, n)
    while events := runtime.services.dispatch.claim_events(10):
        runtime.services.dispatch.dispatch([(event, "{}") for event in events])  # no webhook: dispatched at once
    clock.advance(days=8)
    totals: list[dict[str, int]] = []
    failures: list[BaseException] = []

    def sweep() -> None:
        try:
            totals.append(asyncio.run(RetentionTicker(runtime.services.retention, 60).sweep()))
        except BaseException as error:  # reported by the test thread
            failures.append(error)

    sweepers = [threading.Thread(target=sweep) for _ in range(3)]
    for thread in sweepers:
        thread.start()
    for thread in sweepers:
        thread.join()
    assert failures == []
    assert sum(total["outbox"] for total in totals) == 30
    assert count(runtime, outbox) == 0


def test_old_minute_rollups_go_and_no_metrics_answer_changes(upkeep: Runtime) -> None:
    """Minute rows older than any answer reads go; hour rows and newer minutes stay; the answers are the same."""
    runtime, clock = upkeep, upkeep.clock
    assert isinstance(clock, ManualClock)
    caller = principal(runtime)
    owner = MetricOwner(caller.organization_id)
    now = clock.now()
    ages = {"gone": timedelta(days=125), "unread": timedelta(days=120), "in_window": timedelta(days=100)}
    with runtime.engine.begin() as connection:
        for age in (*ages.values(), timedelta(days=3), timedelta(minutes=5)):
            defer_rollups(
                connection, owner, {"message.received": 1, SENT_RECIPIENTS: 4, RATE_RECIPIENTS["bounce"]: 1}, now - age
            )
        flush_rollups(connection)
    metrics = runtime.services.metrics
    day_ish = 86340  # not a whole number of hours: answered from minute rows
    queries = [
        MetricsQuery(start=now - timedelta(days=89)),  # each minute that counted something
        MetricsQuery(start=now - timedelta(days=89), period=day_ish),
        MetricsQuery(start=now - timedelta(days=89), period=3600 * 24),
    ]
    rates = MetricsQuery(start=now - timedelta(days=89, hours=23), period=day_ish, window=30 * day_ish)
    before = (
        [metrics.events(caller, query) for query in queries],
        metrics.rates(caller, rates),
        metrics.usage(caller, MetricsQuery(start=now - timedelta(days=89), period=day_ish)),
    )
    assert before[1]["bounce"][0].sent == 4  # the first rate point's window reaches the row 100 days back

    def rollups(grain: int) -> list[int]:
        with runtime.engine.connect() as connection:
            rows = connection.execute(select(metric_rollups.c.cell).where(metric_rollups.c.grain == grain))
            return sorted({int(row[0]) for row in rows})

    hours = rollups(HOUR)
    deleted = runtime.services.retention.sweep()
    assert deleted["minute_metrics"] == 3  # one old minute, three metrics, one scope (batches of 2)
    kept = (ages["unread"], ages["in_window"], timedelta(days=3), timedelta(minutes=5))
    minutes = rollups(MINUTE)
    assert cell_of(epoch_seconds(now - ages["gone"]), MINUTE) not in minutes
    assert {cell_of(epoch_seconds(now - age), MINUTE) for age in kept} <= set(minutes)
    assert min(minutes) >= epoch_seconds(now - timedelta(days=121))
    assert rollups(HOUR) == hours
    assert cell_of(epoch_seconds(now - ages["gone"]), HOUR) in hours  # hour rows are never swept
    after = (
        [metrics.events(caller, query) for query in queries],
        metrics.rates(caller, rates),
        metrics.usage(caller, MetricsQuery(start=now - timedelta(days=89), period=day_ish)),
    )
    assert after == before
    assert runtime.services.retention.sweep()["minute_metrics"] == 0


def test_the_default_keeps_every_minute_an_answer_reads() -> None:
    default = Settings.model_fields["retention_minute_metrics_days"].default
    assert timedelta(days=default) >= MINUTE_ROWS_READ == timedelta(days=121)
    assert RetentionPolicy().minute_metrics == MINUTE_ROWS_READ
