"""Mail access control through the official SDK: inbox and pod key scoping (404), missing permissions (403) and
trash visibility without ``label_trash_read``.
"""

from __future__ import annotations

from agentmail import AgentMail
from agentmail.api_keys import ApiKeyPermissions, CreateApiKeyResponse, CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError

from tests.conformance.conftest import client_for
from tests.conformance.helpers import NO_RETRY, async_client_for, expect_async_error, expect_error, unique
from tests.conformance.test_mail import deliver, new_inbox, new_message_id, rich_message, send_raw
from tests.support.server import ServerProcess


def key_request(**permissions: bool) -> CreateBearerApiKeyRequest:
    granted = ApiKeyPermissions(**permissions) if permissions else None
    return CreateBearerApiKeyRequest(name=unique("mail-key"), permissions=granted)


def inbox_key(sdk: AgentMail, inbox_id: str, **permissions: bool) -> str:
    created = sdk.inboxes.api_keys.create(inbox_id, request=key_request(**permissions))
    assert isinstance(created, CreateApiKeyResponse), created
    return created.api_key


def delivered_with_attachment(server: ServerProcess, sdk: AgentMail, inbox_id: str) -> tuple[str, str, str]:
    """Deliver the rich test message; return (message_id, thread_id, attachment_id)."""
    message_id = new_message_id()
    send_raw(server, rich_message(inbox_id, message_id), [inbox_id])
    message = sdk.inboxes.messages.get(inbox_id, message_id)
    return message_id, message.thread_id, (message.attachments or [])[0].attachment_id


def test_inbox_key_cannot_read_another_inbox(server: ServerProcess, sdk: AgentMail) -> None:
    mine, theirs = new_inbox(sdk), new_inbox(sdk)
    own_id, own_thread, own_attachment = delivered_with_attachment(server, sdk, mine)
    their_id, their_thread, their_attachment = delivered_with_attachment(server, sdk, theirs)
    holder = client_for(server, inbox_key(sdk, mine))

    # Its own inbox is fully readable.
    assert [m.message_id for m in holder.inboxes.messages.list(mine).messages] == [own_id]
    assert holder.inboxes.messages.get(mine, own_id).thread_id == own_thread
    assert holder.inboxes.messages.get_raw(mine, own_id).size > 0
    assert holder.inboxes.messages.get_attachment(mine, own_id, own_attachment).size > 0
    assert [t.thread_id for t in holder.threads.list().threads] == [own_thread]  # org route, narrowed to the inbox
    assert holder.threads.get(own_thread).thread_id == own_thread

    calls = {
        "list messages": lambda: holder.inboxes.messages.list(theirs, request_options=NO_RETRY),
        "get message": lambda: holder.inboxes.messages.get(theirs, their_id, request_options=NO_RETRY),
        "own path, foreign id": lambda: holder.inboxes.messages.get(mine, their_id, request_options=NO_RETRY),
        "raw": lambda: holder.inboxes.messages.get_raw(theirs, their_id, request_options=NO_RETRY),
        "raw via own path": lambda: holder.inboxes.messages.get_raw(mine, their_id, request_options=NO_RETRY),
        "attachment": lambda: holder.inboxes.messages.get_attachment(
            theirs, their_id, their_attachment, request_options=NO_RETRY
        ),
        "foreign attachment id on own message": lambda: holder.inboxes.messages.get_attachment(
            mine, own_id, their_attachment, request_options=NO_RETRY
        ),
        "update": lambda: holder.inboxes.messages.update(theirs, their_id, add_labels="x", request_options=NO_RETRY),
        "delete": lambda: holder.inboxes.messages.delete(theirs, their_id, request_options=NO_RETRY),
        "list threads": lambda: holder.inboxes.threads.list(theirs, request_options=NO_RETRY),
        "get thread": lambda: holder.inboxes.threads.get(theirs, their_thread, request_options=NO_RETRY),
        "org get thread": lambda: holder.threads.get(their_thread, request_options=NO_RETRY),
        "thread attachment": lambda: holder.threads.get_attachment(
            their_thread, their_attachment, request_options=NO_RETRY
        ),
        "inbox thread attachment": lambda: holder.inboxes.threads.get_attachment(
            theirs, their_thread, their_attachment, request_options=NO_RETRY
        ),
        "thread update": lambda: holder.threads.update(their_thread, add_labels=["x"], request_options=NO_RETRY),
        "thread delete": lambda: holder.threads.delete(their_thread, request_options=NO_RETRY),
    }
    for name, call in calls.items():
        try:
            expect_error(call, 404, kind=NotFoundError)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error
    batch = holder.inboxes.messages.batch_get(mine, message_ids=[their_id, own_id])
    assert [m.message_id for m in batch.messages] == [own_id]
    updated = holder.inboxes.messages.batch_update(mine, message_ids=[their_id], add_labels=["x"])
    assert updated.updates == []
    # Nothing of theirs changed.
    assert sdk.inboxes.messages.get(theirs, their_id).labels == ["received", "unread"]
    assert sdk.inboxes.threads.get(theirs, their_thread).message_count == 1


def test_pod_key_sees_only_its_pod(server: ServerProcess, sdk: AgentMail) -> None:
    pod, other_pod = sdk.pods.create(name=unique("iso-pod")), sdk.pods.create(name=unique("iso-pod"))
    inside, outside = new_inbox(sdk, pod.pod_id), new_inbox(sdk, other_pod.pod_id)
    inside_id = deliver(server, inside, subject="in the pod")
    outside_id = deliver(server, outside, subject="outside the pod")
    inside_thread = sdk.inboxes.messages.get(inside, inside_id).thread_id
    outside_thread = sdk.inboxes.messages.get(outside, outside_id).thread_id
    created = sdk.pods.api_keys.create(pod.pod_id, request=key_request())
    holder = client_for(server, created.api_key)

    assert [t.thread_id for t in holder.threads.list().threads] == [inside_thread]
    assert [t.thread_id for t in holder.pods.threads.list(pod.pod_id).threads] == [inside_thread]
    assert holder.threads.get(inside_thread).thread_id == inside_thread
    assert [m.message_id for m in holder.inboxes.messages.list(inside).messages] == [inside_id]
    expect_error(lambda: holder.threads.get(outside_thread, request_options=NO_RETRY), 404)
    expect_error(lambda: holder.pods.threads.list(other_pod.pod_id, request_options=NO_RETRY), 404)
    expect_error(lambda: holder.pods.threads.get(pod.pod_id, outside_thread, request_options=NO_RETRY), 404)
    expect_error(lambda: holder.inboxes.threads.list(outside, request_options=NO_RETRY), 404)
    expect_error(lambda: holder.inboxes.messages.get(outside, outside_id, request_options=NO_RETRY), 404)
    expect_error(lambda: holder.inboxes.messages.get_raw(outside, outside_id, request_options=NO_RETRY), 404)


async def test_key_without_message_read_gets_403(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    message_id, thread_id, attachment_id = delivered_with_attachment(server, sdk, inbox_id)
    api_key = inbox_key(sdk, inbox_id, inbox_read=True)
    holder = client_for(server, api_key)
    assert holder.inboxes.get(inbox_id).inbox_id == inbox_id  # the key works, it just cannot read mail
    for call in (
        lambda: holder.inboxes.messages.list(inbox_id, request_options=NO_RETRY),
        lambda: holder.inboxes.messages.get(inbox_id, message_id, request_options=NO_RETRY),
        lambda: holder.inboxes.messages.get_raw(inbox_id, message_id, request_options=NO_RETRY),
        lambda: holder.inboxes.messages.get_attachment(inbox_id, message_id, attachment_id, request_options=NO_RETRY),
        lambda: holder.inboxes.messages.batch_get(inbox_id, message_ids=[message_id], request_options=NO_RETRY),
        lambda: holder.inboxes.threads.list(inbox_id, request_options=NO_RETRY),
        lambda: holder.threads.list(request_options=NO_RETRY),
        lambda: holder.threads.get(thread_id, request_options=NO_RETRY),
        lambda: holder.threads.get_attachment(thread_id, attachment_id, request_options=NO_RETRY),
    ):
        body = expect_error(call, 403, "missing_permission")
        assert body["name"] == "ForbiddenError"
        assert "message_read" in str(body.get("fix"))
    await expect_async_error(
        lambda: async_client_for(server, api_key).inboxes.messages.list(inbox_id, request_options=NO_RETRY),
        403,
        "missing_permission",
    )

    reader = client_for(server, inbox_key(sdk, inbox_id, message_read=True))
    assert [m.message_id for m in reader.inboxes.messages.list(inbox_id).messages] == [message_id]
    for call in (
        lambda: reader.inboxes.messages.update(inbox_id, message_id, add_labels="x", request_options=NO_RETRY),
        lambda: reader.inboxes.messages.delete(inbox_id, message_id, request_options=NO_RETRY),
        lambda: reader.threads.delete(thread_id, request_options=NO_RETRY),
    ):
        expect_error(call, 403, "missing_permission")
    expect_error(
        lambda: reader.inboxes.messages.batch_update(
            inbox_id, message_ids=[message_id], add_labels=["x"], request_options=NO_RETRY
        ),
        403,
        "missing_permission",
    )
    assert sdk.inboxes.messages.get(inbox_id, message_id).labels == ["received", "unread"]


def test_key_without_label_trash_read_never_sees_trash(server: ServerProcess, sdk: AgentMail) -> None:
    inbox_id = new_inbox(sdk)
    kept = deliver(server, inbox_id, subject="kept")
    binned, binned_thread, _ = delivered_with_attachment(server, sdk, inbox_id)
    sdk.inboxes.messages.update(inbox_id, binned, add_labels=["trash"])

    blind = client_for(server, inbox_key(sdk, inbox_id, message_read=True, message_update=True))
    for include_trash in (None, True):
        listed = blind.inboxes.messages.list(inbox_id, include_trash=include_trash)
        assert [m.message_id for m in listed.messages] == [kept]
        threads = blind.inboxes.threads.list(inbox_id, include_trash=include_trash).threads
        assert binned_thread not in [t.thread_id for t in threads]
        assert blind.inboxes.messages.list(inbox_id, labels=["trash"], include_trash=include_trash).messages == []
    expect_error(lambda: blind.inboxes.messages.get(inbox_id, binned, request_options=NO_RETRY), 404)
    expect_error(lambda: blind.inboxes.messages.get_raw(inbox_id, binned, request_options=NO_RETRY), 404)
    expect_error(lambda: blind.inboxes.threads.get(inbox_id, binned_thread, request_options=NO_RETRY), 404)
    assert [m.message_id for m in blind.inboxes.messages.batch_get(inbox_id, message_ids=[binned, kept]).messages] == [
        kept
    ]
    # Nor can it restore what it cannot see.
    expect_error(
        lambda: blind.inboxes.messages.update(inbox_id, binned, remove_labels="trash", request_options=NO_RETRY), 404
    )

    seeing = client_for(server, inbox_key(sdk, inbox_id, message_read=True, label_trash_read=True))
    assert [m.message_id for m in seeing.inboxes.messages.list(inbox_id).messages] == [kept]
    assert [m.message_id for m in seeing.inboxes.messages.list(inbox_id, include_trash=True).messages] == [binned, kept]
    assert seeing.inboxes.messages.get(inbox_id, binned).message_id == binned


def test_thread_of_a_key_without_label_trash_read_hides_its_trashed_messages(
    server: ServerProcess, sdk: AgentMail
) -> None:
    inbox_id = new_inbox(sdk)
    visible = deliver(server, inbox_id, subject="Plan", body="Visible words.")
    hidden = deliver(server, inbox_id, subject="Re: Plan", body="Secret words.", headers={"In-Reply-To": visible})
    thread_id = sdk.inboxes.messages.get(inbox_id, visible).thread_id
    sdk.inboxes.messages.update(inbox_id, hidden, add_labels="trash")
    blind = client_for(server, inbox_key(sdk, inbox_id, message_read=True, message_update=True))

    thread = blind.inboxes.threads.get(inbox_id, thread_id)
    assert [m.message_id for m in thread.messages] == [visible]  # this part holds
    blind.inboxes.threads.update(inbox_id, thread_id, add_labels=["seen"])
    assert "seen" not in sdk.inboxes.messages.get(inbox_id, hidden).labels
    assert thread.message_count == 1
    assert thread.last_message_id == visible
    assert "Secret" not in (thread.preview or "")
    assert "trash" not in thread.labels
    listed = blind.inboxes.threads.list(inbox_id).threads
    assert [(t.message_count, t.last_message_id) for t in listed] == [(1, visible)]
