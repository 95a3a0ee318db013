"""Pods through the official Python SDK: create (idempotent ``client_id``), get, list with paging, delete rules."""

from __future__ import annotations

from agentmail import AgentMail, AsyncAgentMail
from agentmail.api_keys import CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError, ValidationError
from agentmail.inboxes import CreateInboxRequest
from agentmail.pods import Pod

from tests.conformance.conftest import client_for
from tests.conformance.helpers import NO_RETRY, expect_async_error, expect_error, unique, walk
from tests.support.server import ServerProcess


def all_pods(sdk: AgentMail, *, limit: int = 100, ascending: bool | None = None) -> list[Pod]:
    def fetch(token: str | None) -> tuple[list[Pod], str | None]:
        page = sdk.pods.list(limit=limit, page_token=token, ascending=ascending)
        assert page.count == len(page.pods) <= limit
        return page.pods, page.next_page_token

    return walk(fetch)


def test_create_get_and_list(sdk: AgentMail) -> None:
    name = unique("Team Pod")
    pod = sdk.pods.create(name=name)
    assert pod.pod_id.startswith("pod_")
    assert pod.name == name
    assert pod.client_id is None
    assert pod.created_at == pod.updated_at
    assert sdk.pods.get(pod.pod_id).model_dump() == pod.model_dump()
    listed = all_pods(sdk)
    assert pod.pod_id in [item.pod_id for item in listed]


def test_create_without_a_name(sdk: AgentMail) -> None:
    pod = sdk.pods.create()
    assert pod.pod_id.startswith("pod_")
    assert pod.name


def test_client_id_makes_create_idempotent(sdk: AgentMail) -> None:
    client_id = unique("pod-client")
    first = sdk.pods.create(name="First", client_id=client_id)
    second = sdk.pods.create(name="Second", client_id=client_id)
    assert second.pod_id == first.pod_id
    assert second.name == "First"
    assert second.client_id == client_id
    assert [pod.pod_id for pod in all_pods(sdk) if pod.client_id == client_id] == [first.pod_id]


def test_create_checks_its_input(sdk: AgentMail) -> None:
    expect_error(
        lambda: sdk.pods.create(client_id="a@b", request_options=NO_RETRY), 400, "validation_error", ValidationError
    )
    expect_error(
        lambda: sdk.pods.create(name="x" * 257, request_options=NO_RETRY), 400, "validation_error", ValidationError
    )


def test_list_pages_to_the_end_in_both_orders(sdk: AgentMail) -> None:
    created = [sdk.pods.create(name=unique("page")).pod_id for _ in range(4)]
    newest = [pod.pod_id for pod in all_pods(sdk, limit=3)]
    assert len(newest) == len(set(newest))
    assert set(created) <= set(newest)
    assert [pod_id for pod_id in newest if pod_id in created] == list(reversed(created))
    oldest = [pod.pod_id for pod in all_pods(sdk, limit=2, ascending=True)]
    assert oldest == list(reversed(newest))
    first = sdk.pods.list(limit=1)
    assert first.count == 1
    assert first.limit == 1
    assert first.next_page_token
    assert sdk.pods.list(limit=500).limit == 100
    assert sdk.pods.list().limit == 50
    expect_error(lambda: sdk.pods.list(limit=0, request_options=NO_RETRY), 400, "validation_error")
    sdk.inboxes.create()
    sdk.inboxes.create()
    token = sdk.inboxes.list(limit=1).next_page_token
    assert token
    expect_error(lambda: sdk.pods.list(page_token=token, request_options=NO_RETRY), 400, "validation_error")


def test_get_unknown_pod_is_404(sdk: AgentMail) -> None:
    expect_error(lambda: sdk.pods.get("pod_nope", request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(lambda: sdk.pods.delete("pod_nope", request_options=NO_RETRY), 404, "not_found", NotFoundError)


def test_delete_is_refused_while_the_pod_holds_inboxes(sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("busy"))
    inbox = sdk.pods.inboxes.create(pod.pod_id)
    body = expect_error(lambda: sdk.pods.delete(pod.pod_id, request_options=NO_RETRY), 409, "cannot_delete")
    assert body["name"] == "ConflictError"
    assert sdk.pods.get(pod.pod_id).pod_id == pod.pod_id
    sdk.pods.inboxes.delete(pod.pod_id, inbox.inbox_id)
    response = sdk.pods.with_raw_response.delete(pod.pod_id)
    assert response.status_code == 204
    expect_error(lambda: sdk.pods.get(pod.pod_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    assert pod.pod_id not in [item.pod_id for item in all_pods(sdk)]


def test_the_default_pod_cannot_be_deleted(sdk: AgentMail) -> None:
    default_pod = sdk.inboxes.create(request=CreateInboxRequest(username=unique("in-default"))).pod_id
    expect_error(lambda: sdk.pods.delete(default_pod, request_options=NO_RETRY), 409, "cannot_delete")
    assert sdk.pods.get(default_pod).pod_id == default_pod


def test_pod_key_sees_only_its_pod(server: ServerProcess, sdk: AgentMail) -> None:
    mine = sdk.pods.create(name=unique("mine"))
    other = sdk.pods.create(name=unique("other"))
    key = sdk.pods.api_keys.create(mine.pod_id, request=CreateBearerApiKeyRequest(name="pod key"))
    scoped = client_for(server, key.api_key)
    assert [pod.pod_id for pod in scoped.pods.list().pods] == [mine.pod_id]
    assert scoped.pods.get(mine.pod_id).pod_id == mine.pod_id
    expect_error(lambda: scoped.pods.get(other.pod_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(lambda: scoped.pods.delete(other.pod_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(
        lambda: scoped.pods.inboxes.list(other.pod_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
    # Without a pod route, a pod key's new inbox lands in its own pod, and its inbox list covers only that pod.
    inbox = scoped.inboxes.create()
    assert inbox.pod_id == mine.pod_id
    sdk.pods.inboxes.create(other.pod_id)
    assert [item.inbox_id for item in scoped.inboxes.list().inboxes] == [inbox.inbox_id]
    expect_error(lambda: scoped.pods.inboxes.create(other.pod_id, request_options=NO_RETRY), 404, "not_found")
    # Pods are created by organization keys only.
    expect_error(lambda: scoped.pods.create(name="nested", request_options=NO_RETRY), 403, "forbidden")


def test_deleting_a_pod_revokes_its_keys(server: ServerProcess, sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("doomed"))
    key = sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="doomed key"))
    holder = client_for(server, key.api_key)
    assert holder.auth.me().pod_id == pod.pod_id
    sdk.pods.delete(pod.pod_id)
    expect_error(lambda: holder.auth.me(request_options=NO_RETRY), 401)
    expect_error(lambda: sdk.api_keys.get(key.api_key_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)


def test_inbox_key_sees_no_pods(server: ServerProcess, sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create()
    key = sdk.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="inbox key"))
    scoped = client_for(server, key.api_key)
    assert scoped.pods.list().count == 0
    expect_error(lambda: scoped.pods.get(inbox.pod_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)


async def test_async_pod_lifecycle(async_sdk: AsyncAgentMail) -> None:
    client_id = unique("async-pod")
    pod = await async_sdk.pods.create(name="Async Pod", client_id=client_id)
    assert (await async_sdk.pods.create(client_id=client_id)).pod_id == pod.pod_id
    assert (await async_sdk.pods.get(pod.pod_id)).name == "Async Pod"
    assert pod.pod_id in [item.pod_id for item in (await async_sdk.pods.list(limit=10)).pods]  # newest first
    inbox = await async_sdk.pods.inboxes.create(pod.pod_id)
    await expect_async_error(lambda: async_sdk.pods.delete(pod.pod_id, request_options=NO_RETRY), 409, "cannot_delete")
    await async_sdk.inboxes.delete(inbox.inbox_id)
    await async_sdk.pods.delete(pod.pod_id)
    await expect_async_error(
        lambda: async_sdk.pods.get(pod.pod_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
