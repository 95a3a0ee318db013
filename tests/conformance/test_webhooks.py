"""Webhooks through the official SDK at organization, pod and inbox scope, with their custom headers (spec §3.10)."""

from __future__ import annotations

import pytest
from agentmail import AgentMail
from agentmail.api_keys import ApiKeyPermissions, CreateApiKeyResponse, CreateBearerApiKeyRequest
from agentmail.core.api_error import ApiError
from agentmail.errors import NotFoundError, ValidationError
from agentmail.inboxes import CreateInboxRequest

from tests.conformance.conftest import client_for
from tests.conformance.helpers import NO_RETRY, expect_error, unique, walk
from tests.support.server import ServerProcess

URL = "http://127.0.0.1:9/hook"  # nothing listens there: these tests never wait for a delivery


def key_for(sdk: AgentMail, **permissions: bool) -> str:
    request = CreateBearerApiKeyRequest(name=unique("hooks"), permissions=ApiKeyPermissions(**permissions))
    created = sdk.api_keys.create(request=request)
    assert isinstance(created, CreateApiKeyResponse)
    return created.api_key


def test_organization_webhook_lifecycle(sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("hook-pod"))
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=unique("hook")))
    client_id = unique("client")
    webhook = sdk.webhooks.create(
        url=URL,
        event_types=["message.received", "message.sent"],
        pod_ids=[pod.pod_id],
        inbox_ids=[inbox.inbox_id],
        client_id=client_id,
        headers={"X-Api-Token": "secret-value", "X-Team": "a"},
    )
    assert webhook.webhook_id
    assert webhook.url == URL
    assert webhook.event_types == ["message.received", "message.sent"]
    assert webhook.pod_ids == [pod.pod_id]
    assert webhook.inbox_ids == [inbox.inbox_id]
    assert webhook.secret.startswith("whsec_")
    assert webhook.enabled is True
    assert webhook.client_id == client_id
    assert webhook.pod_id is None
    assert webhook.inbox_id is None
    assert sdk.webhooks.create(url=URL, event_types=["message.sent"], client_id=client_id) == webhook  # idempotent
    fetched = sdk.webhooks.get(webhook.webhook_id)
    assert fetched.secret == webhook.secret  # the secret is returned on every read
    assert webhook.webhook_id in {item.webhook_id for item in sdk.webhooks.list(limit=100).webhooks}

    assert sorted(sdk.webhooks.get_headers(webhook.webhook_id).header_names) == ["X-Api-Token", "X-Team"]
    sdk.webhooks.update_headers(webhook.webhook_id, headers={"X-New": "1"}, remove_headers=["x-team"])
    assert sorted(sdk.webhooks.get_headers(webhook.webhook_id).header_names) == ["X-Api-Token", "X-New"]

    updated = sdk.webhooks.update(
        webhook.webhook_id,
        remove_pod_ids=[pod.pod_id],
        add_inbox_ids=[inbox.inbox_id],
        event_types=["message.delivered"],
        enabled=False,
    )
    assert updated.pod_ids is None
    assert updated.inbox_ids == [inbox.inbox_id]
    assert updated.event_types == ["message.delivered"]
    assert updated.enabled is False
    unchanged = sdk.webhooks.update(webhook.webhook_id, event_types=[], enabled=True)  # empty = unchanged
    assert unchanged.event_types == ["message.delivered"]
    assert unchanged.enabled is True

    sdk.webhooks.delete(webhook.webhook_id)
    expect_error(
        lambda: sdk.webhooks.get(webhook.webhook_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
    expect_error(lambda: sdk.webhooks.delete(webhook.webhook_id, request_options=NO_RETRY), 404, "not_found")


def test_pod_webhook_lifecycle(sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("hook-pod"))
    other = sdk.pods.create(name=unique("hook-pod-other"))
    inbox = sdk.pods.inboxes.create(pod.pod_id, username=unique("podhook"))
    webhook = sdk.pods.webhooks.create(pod.pod_id, url=URL, event_types=["message.received"], headers={"X-A": "1"})
    assert webhook.pod_id == pod.pod_id
    assert webhook.inbox_id is None
    assert sdk.pods.webhooks.get(pod.pod_id, webhook.webhook_id) == webhook
    assert [item.webhook_id for item in sdk.pods.webhooks.list(pod.pod_id).webhooks] == [webhook.webhook_id]
    assert sdk.pods.webhooks.list(other.pod_id).webhooks == []
    expect_error(
        lambda: sdk.pods.webhooks.get(other.pod_id, webhook.webhook_id, request_options=NO_RETRY), 404, "not_found"
    )
    updated = sdk.pods.webhooks.update(pod.pod_id, webhook.webhook_id, add_inbox_ids=[inbox.inbox_id])
    assert updated.inbox_ids == [inbox.inbox_id]
    assert sdk.pods.webhooks.get_headers(pod.pod_id, webhook.webhook_id).header_names == ["X-A"]
    sdk.pods.webhooks.update_headers(pod.pod_id, webhook.webhook_id, remove_headers=["X-A"])
    assert sdk.pods.webhooks.get_headers(pod.pod_id, webhook.webhook_id).header_names == []
    sdk.pods.webhooks.delete(pod.pod_id, webhook.webhook_id)
    assert sdk.pods.webhooks.list(pod.pod_id).webhooks == []


def test_inbox_webhook_lifecycle(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=unique("inboxhook")))
    other = sdk.inboxes.create(request=CreateInboxRequest(username=unique("inboxhook")))
    webhook = sdk.inboxes.webhooks.create(inbox.inbox_id, url=URL, event_types=["message.received"])
    assert webhook.inbox_id == inbox.inbox_id
    assert webhook.pod_id == inbox.pod_id
    assert sdk.inboxes.webhooks.get(inbox.inbox_id, webhook.webhook_id).webhook_id == webhook.webhook_id
    assert [item.webhook_id for item in sdk.inboxes.webhooks.list(inbox.inbox_id).webhooks] == [webhook.webhook_id]
    expect_error(lambda: sdk.inboxes.webhooks.get(other.inbox_id, webhook.webhook_id, request_options=NO_RETRY), 404)
    assert sdk.inboxes.webhooks.update(inbox.inbox_id, webhook.webhook_id, enabled=False).enabled is False
    sdk.inboxes.webhooks.update_headers(inbox.inbox_id, webhook.webhook_id, headers={"Authorization": "Bearer x"})
    assert sdk.inboxes.webhooks.get_headers(inbox.inbox_id, webhook.webhook_id).header_names == ["Authorization"]
    assert webhook.webhook_id in {item.webhook_id for item in sdk.webhooks.list(limit=100).webhooks}
    sdk.inboxes.webhooks.delete(inbox.inbox_id, webhook.webhook_id)
    expect_error(lambda: sdk.webhooks.get(webhook.webhook_id, request_options=NO_RETRY), 404)


def test_invalid_webhook_requests_are_400_and_change_nothing(sdk: AgentMail) -> None:
    before = walk(lambda token: _page(sdk, token))
    bad_calls = [
        lambda: sdk.webhooks.create(url=URL, event_types=[], request_options=NO_RETRY),
        lambda: sdk.webhooks.create(url=URL, event_types=["message.exploded"], request_options=NO_RETRY),  # type: ignore[list-item]
        lambda: sdk.webhooks.create(url="ftp://127.0.0.1/x", event_types=["message.sent"], request_options=NO_RETRY),
        lambda: sdk.webhooks.create(url="not a url", event_types=["message.sent"], request_options=NO_RETRY),
        lambda: sdk.webhooks.create(url=URL, event_types=["message.sent"], headers={}, request_options=NO_RETRY),
        lambda: sdk.webhooks.create(
            url=URL, event_types=["message.sent"], headers={"svix-id": "forged"}, request_options=NO_RETRY
        ),
        lambda: sdk.webhooks.create(
            url=URL, event_types=["message.sent"], inbox_ids=["nobody@nowhere.test"], request_options=NO_RETRY
        ),
        lambda: sdk.webhooks.create(
            url=URL, event_types=["message.sent"], pod_ids=[f"pod_{n}" for n in range(11)], request_options=NO_RETRY
        ),
    ]
    for call in bad_calls:
        expect_error(call, 400, "validation_error", ValidationError)
    assert walk(lambda token: _page(sdk, token)) == before
    webhook = sdk.webhooks.create(url=URL, event_types=["message.sent"], headers={"X-A": "1"})
    expect_error(
        lambda: sdk.webhooks.update_headers(
            webhook.webhook_id, headers={"X-A": "2"}, remove_headers=["x-a"], request_options=NO_RETRY
        ),
        400,
        "validation_error",
    )
    expect_error(lambda: sdk.webhooks.update_headers(webhook.webhook_id, request_options=NO_RETRY), 400)
    assert sdk.webhooks.get_headers(webhook.webhook_id).header_names == ["X-A"]
    sdk.webhooks.delete(webhook.webhook_id)


def _page(sdk: AgentMail, token: str | None) -> tuple[list[str], str | None]:
    page = sdk.webhooks.list(limit=2, page_token=token)
    return [item.webhook_id for item in page.webhooks], page.next_page_token


def test_list_pages_newest_first_and_ascending(sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("hook-pages"))
    made = [sdk.pods.webhooks.create(pod.pod_id, url=URL, event_types=["message.sent"]).webhook_id for _ in range(5)]

    def page(token: str | None, ascending: bool) -> tuple[list[str], str | None]:
        result = sdk.pods.webhooks.list(pod.pod_id, limit=2, page_token=token, ascending=ascending)
        assert result.count == len(result.webhooks)
        return [item.webhook_id for item in result.webhooks], result.next_page_token

    assert walk(lambda token: page(token, False)) == made[::-1]
    assert walk(lambda token: page(token, True)) == made


def test_restricted_event_types_need_the_label_permission(server: ServerProcess, sdk: AgentMail) -> None:
    plain = client_for(server, key_for(sdk, webhook_create=True, webhook_read=True))
    body = expect_error(
        lambda: plain.webhooks.create(url=URL, event_types=["message.received.spam"], request_options=NO_RETRY),
        403,
        "missing_permission",
    )
    assert "label_spam_read" in body["message"]
    allowed = client_for(server, key_for(sdk, webhook_create=True, label_spam_read=True))
    assert allowed.webhooks.create(url=URL, event_types=["message.received.spam"]).event_types == [
        "message.received.spam"
    ]


def test_webhook_permissions_and_scopes(server: ServerProcess, sdk: AgentMail) -> None:
    reader = client_for(server, key_for(sdk, webhook_read=True))
    expect_error(
        lambda: reader.webhooks.create(url=URL, event_types=["message.sent"], request_options=NO_RETRY),
        403,
        "missing_permission",
    )
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=unique("scoped")))
    org_hook = sdk.webhooks.create(url=URL, event_types=["message.sent"])
    created = sdk.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="inbox key"))
    assert isinstance(created, CreateApiKeyResponse)
    inbox_client = client_for(server, created.api_key)
    own = inbox_client.webhooks.create(url=URL, event_types=["message.received"])  # the key's own scope
    assert own.inbox_id == inbox.inbox_id
    assert [item.webhook_id for item in inbox_client.webhooks.list().webhooks] == [own.webhook_id]
    with pytest.raises(ApiError) as caught:
        inbox_client.webhooks.get(org_hook.webhook_id, request_options=NO_RETRY)
    assert caught.value.status_code == 404
    sdk.webhooks.delete(org_hook.webhook_id)


def test_polling_webhooks_are_not_offered(sdk: AgentMail) -> None:
    expect_error(lambda: sdk.webhooks.polling.list(request_options=NO_RETRY), 404, "not_found")
    expect_error(
        lambda: sdk.webhooks.polling.create(
            client_id=unique("poll"), event_types=["message.received"], request_options=NO_RETRY
        ),
        404,
        "not_found",
    )
