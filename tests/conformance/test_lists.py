"""Allow/block lists through the official SDK (spec §3.12): the 12 endpoints at organization, pod and inbox scope,
permissions, evaluation on send (403 message_rejected, nothing queued) and on receive (label ``blocked``), and hard
bounces as read-only send-block entries."""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from agentmail import AgentMail
from agentmail.api_keys import ApiKeyPermissions, CreateApiKeyResponse, CreateBearerApiKeyRequest
from agentmail.core.api_error import ApiError
from agentmail.errors import NotFoundError, ValidationError
from agentmail.inboxes import CreateInboxRequest
from agentmail.messages.errors.message_rejected_error import MessageRejectedError

from tests.conformance.conftest import client_for
from tests.conformance.helpers import NO_RETRY, expect_error, unique
from tests.support.receiver import running_receiver
from tests.support.server import ServerProcess
from tests.support.sink import SinkServer

DEADLINE = 30.0


class Scope:
    """The same four list operations at one scope, spelled the way the SDK spells them there."""

    def __init__(self, name: str, sdk: AgentMail, owner: str | None) -> None:
        self.name, self._sdk, self._owner = name, sdk, owner

    def _client(self) -> Any:
        if self.name == "organization":
            return self._sdk.lists
        return self._sdk.pods.lists if self.name == "pod" else self._sdk.inboxes.lists

    def _args(self, *rest: str) -> tuple[str, ...]:
        return (*((self._owner,) if self._owner else ()), *rest)

    def create(self, direction: str, kind: str, entry: str, **options: Any) -> Any:
        return self._client().create(*self._args(direction, kind), entry=entry, **options)

    def get(self, direction: str, kind: str, entry: str, **options: Any) -> Any:
        return self._client().get(*self._args(direction, kind, entry), **options)

    def list(self, direction: str, kind: str, **options: Any) -> Any:
        return self._client().list(*self._args(direction, kind), **options)

    def delete(self, direction: str, kind: str, entry: str, **options: Any) -> Any:
        return self._client().delete(*self._args(direction, kind, entry), **options)


def scopes(sdk: AgentMail) -> list[Scope]:
    pod = sdk.pods.create(name=unique("lists"))
    inbox = sdk.pods.inboxes.create(pod.pod_id, username=unique("lists"))
    return [Scope("organization", sdk, None), Scope("pod", sdk, pod.pod_id), Scope("inbox", sdk, inbox.inbox_id)]


def test_all_twelve_endpoints_at_each_scope(sdk: AgentMail) -> None:
    org_id = sdk.organizations.get().organization_id
    for scope in scopes(sdk):
        domain = f"{uuid.uuid4().hex[:8]}.example"
        created = scope.create("receive", "block", f"Spammer@{domain.upper()}", reason="sent junk")
        assert created.entry == f"spammer@{domain}"
        assert (created.direction, created.list_type, created.entry_type) == ("receive", "block", "email")
        assert created.reason == "sent junk"
        assert created.organization_id == org_id
        assert created.read_only is False
        assert created.created_at is not None
        if scope.name == "pod":
            assert created.pod_id == scope._owner
        if scope.name == "inbox":
            assert created.inbox_id == scope._owner
            assert created.pod_id
        domain_entry = scope.create("receive", "block", domain)
        assert domain_entry.entry_type == "domain"
        again = scope.create("receive", "block", f"spammer@{domain}")  # adding twice keeps one entry
        assert again.entry == created.entry

        fetched = scope.get("receive", "block", f"spammer@{domain}")
        assert fetched.entry == created.entry
        assert scope.get("receive", "block", f"SPAMMER@{domain}").entry == created.entry  # case-insensitive
        listed = scope.list("receive", "block")
        assert [entry.entry for entry in listed.entries] == sorted([domain, f"spammer@{domain}"])  # entry asc
        assert listed.count == 2
        assert scope.list("receive", "allow").entries == []  # each direction/type is its own list
        assert scope.list("send", "block").count == 0 or scope.name == "organization"

        # paging walks the list in entry order
        first = scope.list("receive", "block", limit=1)
        assert first.count == 1
        assert first.next_page_token
        second = scope.list("receive", "block", limit=1, page_token=first.next_page_token)
        assert [first.entries[0].entry, second.entries[0].entry] == sorted([domain, f"spammer@{domain}"])
        assert second.next_page_token is None

        assert scope.delete("receive", "block", f"spammer@{domain}") is None
        expect_error(
            lambda s=scope, d=domain: s.get("receive", "block", f"spammer@{d}", request_options=NO_RETRY),
            404,
            "not_found",
            NotFoundError,
        )
        expect_error(
            lambda s=scope, d=domain: s.delete("receive", "block", f"spammer@{d}", request_options=NO_RETRY),
            404,
            "not_found",
            NotFoundError,
        )
        scope.delete("receive", "block", domain)


def test_bad_input_is_400_and_unknown_lists_or_owners_404(sdk: AgentMail) -> None:
    for scope in scopes(sdk):
        for bad in ("not an address", "a@b", ""):
            expect_error(
                lambda s=scope, b=bad: s.create("receive", "block", b, request_options=NO_RETRY),
                400,
                "validation_error",
                ValidationError,
            )
        expect_error(
            lambda s=scope: s.create("sideways", "block", "a@x.example", request_options=NO_RETRY),
            400,
            "validation_error",
        )
        expect_error(lambda s=scope: s.list("send", "maybe", request_options=NO_RETRY), 400, "validation_error")
    expect_error(lambda: sdk.pods.lists.list("pod_nope", "send", "block", request_options=NO_RETRY), 404, "not_found")
    expect_error(
        lambda: sdk.inboxes.lists.get(
            "nobody@postroom.localhost", "send", "block", "a@x.example", request_options=NO_RETRY
        ),
        404,
        "not_found",
        NotFoundError,
    )


def key_with(sdk: AgentMail, **permissions: bool) -> str:
    request = CreateBearerApiKeyRequest(name=unique("lists"), permissions=ApiKeyPermissions(**permissions))
    created = sdk.api_keys.create(request=request)
    assert isinstance(created, CreateApiKeyResponse)
    return created.api_key


def test_list_entry_permissions_are_enforced(server: ServerProcess, sdk: AgentMail) -> None:
    reader = client_for(server, key_with(sdk, list_entry_read=True))
    writer = client_for(server, key_with(sdk, list_entry_create=True, list_entry_read=True))
    entry = f"perm-{uuid.uuid4().hex[:8]}@example.net"
    error = expect_error(
        lambda: reader.lists.create("send", "block", entry=entry, request_options=NO_RETRY), 403, "missing_permission"
    )
    assert "list_entry_create" in str(error.get("fix", ""))
    writer.lists.create("send", "block", entry=entry)
    assert reader.lists.get("send", "block", entry).entry == entry
    expect_error(
        lambda: writer.lists.delete("send", "block", entry, request_options=NO_RETRY), 403, "missing_permission"
    )
    blind = client_for(server, key_with(sdk, message_read=True))
    expect_error(lambda: blind.lists.list("send", "block", request_options=NO_RETRY), 403, "missing_permission")
    sdk.lists.delete("send", "block", entry)


def test_a_pod_key_cannot_touch_another_pods_lists(server: ServerProcess, sdk: AgentMail) -> None:
    mine, theirs = sdk.pods.create(name=unique("mine")), sdk.pods.create(name=unique("theirs"))
    created = sdk.pods.api_keys.create(mine.pod_id, request=CreateBearerApiKeyRequest(name="pod key"))
    pod_client = client_for(server, created.api_key)
    expect_error(
        lambda: pod_client.pods.lists.list(theirs.pod_id, "send", "block", request_options=NO_RETRY), 404, "not_found"
    )
    # On the organization route a pod key manages its own pod's lists, never the organization's.
    entry = pod_client.lists.create("send", "block", entry=f"x-{uuid.uuid4().hex[:6]}@example.net")
    assert sdk.pods.lists.get(mine.pod_id, "send", "block", entry.entry).entry == entry.entry
    expect_error(lambda: sdk.lists.get("send", "block", entry.entry, request_options=NO_RETRY), 404, "not_found")


def test_sending_to_a_blocked_or_not_allowed_recipient_is_rejected_and_nothing_queued(
    sdk: AgentMail, sink: SinkServer
) -> None:
    inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=unique("sender"))).inbox_id
    blocked = f"blocked-{uuid.uuid4().hex[:8]}@example.org"
    sdk.inboxes.lists.create(inbox_id, "send", "block", entry=blocked, reason="asked us to stop")
    before = sdk.inboxes.messages.list(inbox_id).count
    error = expect_error(
        lambda: sdk.inboxes.messages.send(
            inbox_id, to=[f"ok-{uuid.uuid4().hex[:6]}@example.org"], bcc=blocked, text="x", request_options=NO_RETRY
        ),
        403,
        "message_rejected",
        MessageRejectedError,
    )
    assert blocked in error["message"]
    # An allow list admits only its entries.
    allowed = f"allowed-{uuid.uuid4().hex[:8]}@example.org"
    sdk.inboxes.lists.create(inbox_id, "send", "allow", entry=allowed)
    stranger = f"stranger-{uuid.uuid4().hex[:8]}@example.net"
    error = expect_error(
        lambda: sdk.inboxes.messages.send(inbox_id, to=stranger, text="x", request_options=NO_RETRY),
        403,
        "message_rejected",
        MessageRejectedError,
    )
    assert stranger in error["message"]
    assert "allow list" in error["message"]
    assert sdk.inboxes.messages.list(inbox_id).count == before  # nothing was stored or queued
    sdk.inboxes.messages.send(inbox_id, to=allowed, subject="fine", text="ok")
    wait_until(lambda: any(allowed in m.rcpt_tos for m in list(sink.messages)))


def wait_until(check: Callable[[], Any], deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_hard_bounce_becomes_a_read_only_send_block_entry(sdk: AgentMail, sink: SinkServer) -> None:
    inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=unique("bouncer"))).inbox_id
    gone = f"gone-{uuid.uuid4().hex[:8]}@example.org"
    sink.script_rcpt(gone, "550 5.1.1 no such user", always=True)
    sdk.inboxes.messages.send(inbox_id, to=gone, subject="hello", text="anyone?")
    entry = wait_until(
        lambda: next((e for e in sdk.lists.list("send", "block", limit=100).entries if e.entry == gone), None)
    )
    assert entry.read_only is True
    assert (entry.direction, entry.list_type, entry.entry_type) == ("send", "block", "email")
    assert "5.1.1" in (entry.reason or "")
    error = expect_error(lambda: sdk.lists.delete("send", "block", gone, request_options=NO_RETRY), 403)
    assert "cannot be deleted" in error["message"]
    expect_error(
        lambda: sdk.inboxes.messages.send(inbox_id, to=gone, text="again", request_options=NO_RETRY),
        403,
        "message_rejected",
    )


def deliver(server: ServerProcess, inbox_id: str, sender: str, subject: str, extra: str = "") -> str:
    message_id = f"<{uuid.uuid4().hex}@{sender.rpartition('@')[2]}>"
    raw = f"From: {sender}\r\nTo: {inbox_id}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n{extra}\r\nHello.\r\n"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30) as smtp:
        smtp.sendmail(sender, [inbox_id], raw.encode())
    return message_id


def labels_of(sdk: AgentMail, inbox_id: str, message_id: str) -> list[str]:
    return list(sdk.inboxes.messages.get(inbox_id, message_id).labels)


def test_receive_and_reply_lists_label_inbound_mail_blocked(
    server: ServerProcess, sdk: AgentMail, sink: SinkServer
) -> None:
    pod = sdk.pods.create(name=unique("recv"))
    inbox_id = sdk.pods.inboxes.create(pod.pod_id, username=unique("recv")).inbox_id
    pest = f"pest-{uuid.uuid4().hex[:6]}@example.com"
    friend = f"friend-{uuid.uuid4().hex[:6]}@example.com"
    sdk.pods.lists.create(pod.pod_id, "receive", "block", entry="example.com")  # the whole domain, at pod scope
    sdk.inboxes.lists.create(inbox_id, "receive", "allow", entry=friend)  # the inbox's narrower entry wins for one

    blocked_id = deliver(server, inbox_id, pest, "buy now")
    friendly_id = deliver(server, inbox_id, friend, "lunch?")
    assert labels_of(sdk, inbox_id, blocked_id) == ["blocked", "unread"]
    assert labels_of(sdk, inbox_id, friendly_id) == ["received", "unread"]
    visible = [m.message_id for m in sdk.inboxes.messages.list(inbox_id).messages]
    assert visible == [friendly_id]  # blocked mail is hidden unless asked for
    assert blocked_id in [m.message_id for m in sdk.inboxes.messages.list(inbox_id, include_blocked=True).messages]

    # A reply to our own message is judged by the reply lists (empty: every reply is allowed), not the receive lists.
    sent = sdk.inboxes.messages.send(inbox_id, to=pest, subject="About your order", text="Which one?")
    wait_until(lambda: any(pest in m.rcpt_tos for m in list(sink.messages)))
    reply_id = deliver(server, inbox_id, pest, "Re: About your order", f"In-Reply-To: {sent.message_id}\r\n")
    assert labels_of(sdk, inbox_id, reply_id) == ["received", "unread"]
    sdk.inboxes.lists.create(inbox_id, "reply", "block", entry=pest)
    second_id = deliver(server, inbox_id, pest, "Re: About your order", f"In-Reply-To: {sent.message_id}\r\n")
    assert labels_of(sdk, inbox_id, second_id) == ["blocked", "unread"]


def test_readyz_says_whether_spam_is_classified(server: ServerProcess) -> None:
    body = httpx.get(f"{server.base_url}/readyz", timeout=10).json()
    assert body["status"] == "ready"
    assert body["spam_filter"].startswith("off: POSTROOM_RSPAMD_URL is not set")


@pytest.mark.parametrize("label", ["blocked"])
def test_blocked_mail_needs_label_blocked_read(server: ServerProcess, sdk: AgentMail, label: str) -> None:
    inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=unique("perm"))).inbox_id
    pest = f"pest-{uuid.uuid4().hex[:6]}@example.net"
    sdk.inboxes.lists.create(inbox_id, "receive", "block", entry=pest)
    message_id = deliver(server, inbox_id, pest, "junk")
    limited = client_for(server, key_with(sdk, message_read=True))
    assert limited.inboxes.messages.list(inbox_id, include_blocked=True).count == 0
    with pytest.raises(ApiError) as hidden:
        limited.inboxes.messages.get(inbox_id, message_id, request_options=NO_RETRY)
    assert hidden.value.status_code == 404
    assert labels_of(sdk, inbox_id, message_id) == [label, "unread"]


def test_unauthenticated_mail_reaches_only_subscribers_that_asked_and_may_read_it(
    server: ServerProcess, sdk: AgentMail
) -> None:
    inbox_id = sdk.inboxes.create(request=CreateInboxRequest(username=unique("unauth"))).inbox_id
    without = client_for(server, key_with(sdk, webhook_create=True, webhook_read=True))
    expect_error(
        lambda: without.webhooks.create(
            url="http://127.0.0.1:9/x", event_types=["message.received.unauthenticated"], request_options=NO_RETRY
        ),
        403,
        "missing_permission",
    )
    allowed = client_for(server, key_with(sdk, webhook_create=True, webhook_read=True, label_unauthenticated_read=True))
    with running_receiver() as receiver:
        plain = sdk.webhooks.create(url=receiver.url, event_types=["message.received"], inbox_ids=[inbox_id])
        asked = allowed.webhooks.create(
            url=receiver.url, event_types=["message.received.unauthenticated"], inbox_ids=[inbox_id]
        )
        receiver.secrets += [plain.secret, asked.secret]
        forged = deliver(server, inbox_id, "ceo@nowhere.test", "Wire the money")  # nothing published: no pass
        genuine = deliver(server, inbox_id, "ann@example.org", "Real mail")  # SPF pass, aligned

        def by_webhook() -> dict[str, list[tuple[str, str]]]:
            seen: dict[str, list[tuple[str, str]]] = {}
            for item in receiver.accepted():
                seen.setdefault(str(item.verified_for), []).append(
                    (item.event["event_type"], item.event["message"]["message_id"])
                )
            return seen

        seen = wait_until(lambda: (s := by_webhook()).get(plain.secret) and s.get(asked.secret) and s)
        sdk.webhooks.delete(plain.webhook_id)
        sdk.webhooks.delete(asked.webhook_id)
    # Events reach a webhook in order, so the plain one would have had the forged message first.
    assert seen[plain.secret] == [("message.received", genuine)]
    assert seen[asked.secret] == [("message.received.unauthenticated", forged)]
