"""Spam classification with a real rspamd on loopback (both databases): GTUBE refused or labelled per its action,
ham received, and rspamd going away mid-test never loses mail."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import rspamd as rspamd_support
from tests.support.dns_server import DnsTestServer, dns_test_server
from tests.support.mailroom import Mailroom
from tests.support.rspamd import GTUBE, Rspamd
from tests.support.trust import message, publish_sender, split_verdict

pytestmark = pytest.mark.skipif(not rspamd_support.available(), reason="rspamd is installed by `make test`")
SENDER = "sender@ham.test"


@pytest.fixture(scope="module")
def rspamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rspamd]:
    with rspamd_support.running_rspamd(tmp_path_factory.mktemp("rspamd")) as server:
        yield server


@pytest.fixture
def dns() -> Iterator[DnsTestServer]:
    with dns_test_server() as server:
        publish_sender(server, "ham.test", dmarc="v=DMARC1; p=reject")
        yield server


@pytest.fixture
def mailroom(database_url: str, tmp_path: Path, dns: DnsTestServer, rspamd: Rspamd) -> Iterator[Mailroom]:
    room = Mailroom(database_url, tmp_path, dns, rspamd_url=rspamd.url, rspamd_timeout_seconds=2.0)
    yield room
    room.close()


def test_ham_is_received_with_its_score(mailroom: Mailroom) -> None:
    mailroom.deliver(SENDER, message(SENDER, mailroom.inbox_id, body="Lunch on Friday?\r\n"))
    stored = mailroom.only_message()
    assert stored["labels"] == ["received", "unread"]
    assert stored["headers"]["X-Spam-Status"].startswith("No, score=0.00")
    assert mailroom.event_types() == ["message.received"]


def test_gtube_reject_is_refused_at_data(mailroom: Mailroom) -> None:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        mailroom.deliver(SENDER, message(SENDER, mailroom.inbox_id, body=GTUBE["reject"] + "\r\n"))
    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error == b"5.7.1 Message classified as spam"
    assert mailroom.messages() == []


@pytest.mark.parametrize("action", ["add header", "rewrite subject"])
def test_gtube_spam_actions_are_labelled_spam(mailroom: Mailroom, action: str) -> None:
    raw = message(SENDER, mailroom.inbox_id, subject="Deal", body=GTUBE[action] + "\r\n")
    mailroom.deliver(SENDER, raw)
    stored = mailroom.only_message()
    assert stored["labels"] == ["spam", "unread"]
    assert stored["headers"]["X-Spam-Status"].startswith("Yes, score=")
    assert f"action={action}" in stored["headers"]["X-Spam-Status"]
    assert stored["subject"] == "Deal"  # Postroom labels spam; it does not rewrite what the sender wrote
    assert mailroom.event_types() == ["message.received.spam"]
    added, sent = split_verdict(mailroom.raw(stored["message_id"]))
    assert sent == raw
    assert b"X-Spam-Status: Yes" in added
    hidden = mailroom.client.get(f"/v0/inboxes/{mailroom.inbox_id}/messages")
    assert hidden.json()["messages"] == []


def test_unauthenticated_spam_is_labelled_unauthenticated_first(mailroom: Mailroom) -> None:
    # the pipeline's order: no aligned authentication decides before the spam verdict does
    mailroom.deliver("x@nowhere.test", message("x@nowhere.test", mailroom.inbox_id, body=GTUBE["add header"] + "\r\n"))
    stored = mailroom.only_message()
    assert stored["labels"] == ["unauthenticated", "unread"]
    assert mailroom.event_types() == ["message.received.unauthenticated"]


def test_mail_is_stored_unclassified_when_rspamd_stops(
    database_url: str, tmp_path: Path, dns: DnsTestServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    own = rspamd_support.Rspamd(tmp_path_factory.mktemp("rspamd-stopping")).start()
    room = Mailroom(database_url, tmp_path, dns, rspamd_url=own.url, rspamd_timeout_seconds=2.0)
    try:
        room.deliver(SENDER, message(SENDER, room.inbox_id, subject="before"))
        own.stop()
        room.deliver(SENDER, message(SENDER, room.inbox_id, subject="after"))
        stored = {m["subject"]: m for m in room.messages()}
        assert set(stored) == {"before", "after"}
        assert stored["after"]["labels"] == ["received", "unread"]
        assert "X-Spam-Status" not in stored["after"]["headers"]
        ready = room.client.get("/readyz").json()
        assert ready["spam_filter"] == f"rspamd at {own.url}"
        assert ready["spam_filter_failures"] == 1  # logged and counted
    finally:
        own.stop()
        room.close()
