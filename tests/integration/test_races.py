"""Races between concurrent writers, forced with barriers, on both databases.

1. A message and its reply filed at the same moment must share one thread (on PostgreSQL both transactions used to
   look for the thread before either committed, and each started its own).
2. An inbox deleted and re-created at the same address while the deletion is still removing blobs: the blobs of the
   new inbox's mail must survive (the deletion used to remove everything under the address).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from postroom.domain.access import Principal
from postroom.runtime import Runtime
from postroom.services.access.inboxes import NewInbox
from postroom.services.mail.filing import file_in_thread
from postroom.services.mail.group_commit import GroupCommit
from postroom.services.mail.receive import FromInbox, InboundMessage, ReceiveService
from postroom.storage.blobs.local import LocalBlobStore

LOCAL = FromInbox("colleague@postroom.localhost")  # mail from an inbox here: filing is what is tested, not trust
ROUNDS = 12
WAIT_SECONDS = 20


def principal(runtime: Runtime) -> Principal:
    assert runtime.bootstrap.api_key is not None
    return runtime.services.access.authenticate(f"Bearer {runtime.bootstrap.api_key}")


def mail(to: str, message_id: str, subject: str, in_reply_to: str | None = None) -> bytes:
    reply = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    return (
        f"From: a@example.com\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n{reply}\r\nbody\r\n"
    ).encode()


def run_together(*work: Callable[[], Any]) -> list[Any]:
    """Run each callable on its own thread; their results (an exception is re-raised)."""
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = work[index]()
        except BaseException as error:  # re-raised on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS * 2)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def filing_barrier(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Both writers meet right before filing into a thread, inside their write transactions where they can be
    concurrent (PostgreSQL); SQLite write transactions are serial, so there they meet before storing starts."""
    barrier = threading.Barrier(2, timeout=WAIT_SECONDS)
    if runtime.engine.dialect.name == "postgresql":

        def meet_then_file(uow: Any, message: Any) -> None:
            barrier.wait()
            file_in_thread(uow, message)

        monkeypatch.setattr("postroom.services.mail.receive.file_in_thread", meet_then_file)
    return barrier


def test_a_message_and_its_reply_filed_at_once_share_one_thread(
    runtime: Runtime, filing_barrier: threading.Barrier
) -> None:
    inbox = runtime.services.inboxes.create(principal(runtime), NewInbox(username="threads")).inbox_id
    postgres = runtime.engine.dialect.name == "postgresql"
    # One process files concurrent messages in one transaction (group commit); two processes on one database
    # file in two concurrent transactions: the case the thread locks are for.
    receive = runtime.services.receive
    other_process = copy.copy(receive)
    other_process.filings = GroupCommit(runtime.factory, runtime.wakeups)

    def store(raw: bytes, service: ReceiveService) -> list[str]:
        if not postgres:
            filing_barrier.wait()
        return service.store(InboundMessage(raw, "a@example.com", [inbox], LOCAL))

    split = []
    for n in range(ROUNDS):
        parent = mail(inbox, f"<p{n}@example.com>", f"round {n}")
        reply = mail(inbox, f"<r{n}@example.com>", f"Re: round {n}", in_reply_to=f"<p{n}@example.com>")
        [parent_row], [reply_row] = run_together(partial(store, parent, receive), partial(store, reply, other_process))
        with runtime.factory() as uow:
            threads = {uow.mail.get_message_row(row).thread_id for row in (parent_row, reply_row)}  # type: ignore[union-attr]
        if len(threads) != 1:
            split.append(n)
    assert split == []


def test_an_inbox_re_created_while_the_old_one_is_being_deleted_keeps_its_mail(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = principal(runtime)
    inboxes, receive = runtime.services.inboxes, runtime.services.receive
    deleting: set[int] = set()
    committed, resume = threading.Event(), threading.Event()
    original_delete = LocalBlobStore.delete_prefix

    def delete_after_the_new_inbox_got_mail(self: LocalBlobStore, prefix: str) -> int:
        if threading.get_ident() in deleting:  # the deletion has committed; its blob clean-up waits here
            committed.set()
            assert resume.wait(WAIT_SECONDS)
        return original_delete(self, prefix)

    monkeypatch.setattr(LocalBlobStore, "delete_prefix", delete_after_the_new_inbox_got_mail)
    lost = []
    for n in range(3):
        address = inboxes.create(caller, NewInbox(username="phoenix")).inbox_id
        receive.store(InboundMessage(mail(address, f"<old{n}@example.com>", "old"), None, [address], LOCAL))
        committed.clear()
        resume.clear()
        deleting.clear()

        new_mail = InboundMessage(mail(address, f"<new{n}@example.com>", "new"), None, [address], LOCAL)

        def delete_old(address: str = address) -> None:
            deleting.add(threading.get_ident())
            inboxes.delete(caller, address)

        def re_create_and_receive(new_mail: InboundMessage = new_mail) -> list[str]:
            assert committed.wait(WAIT_SECONDS)
            inboxes.create(caller, NewInbox(username="phoenix"))
            rows = receive.store(new_mail)
            resume.set()
            return rows

        _, rows = run_together(delete_old, re_create_and_receive)
        [message] = client.get(f"/v0/inboxes/{address}/messages").json()["messages"]
        raw = client.get(f"/v0/inboxes/{address}/messages/{message['message_id']}/raw")
        download = client.get(raw.json()["download_url"]) if raw.status_code == 200 else raw
        if download.status_code != 200 or b"<new" not in download.content:
            lost.append((n, raw.status_code, download.status_code))
        assert rows
        inboxes.delete(caller, address)
    assert lost == []
