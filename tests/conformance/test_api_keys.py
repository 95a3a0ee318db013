"""API keys at organization, pod and inbox scope through the official Python SDK (sync and async).

Covers CRUD and paging, scoping (out-of-scope → 404), revocation and expiry (→ 401), ``used_at`` and permission rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentmail import AgentMail, AsyncAgentMail
from agentmail.api_keys import (
    ApiKeyPermissions,
    BearerApiKey,
    CreateApiKeyResponse,
    CreateBearerApiKeyRequest,
)
from agentmail.environment import AgentMailEnvironment
from agentmail.errors import NotFoundError, ValidationError
from agentmail.inboxes import CreateInboxRequest, Inbox
from fastapi.testclient import TestClient

from postroom.runtime import Runtime
from tests.conformance.conftest import client_for
from tests.conformance.helpers import (
    NO_RETRY,
    async_client_for,
    expect_async_error,
    expect_error,
    unique,
    walk,
)
from tests.support.clock import TestClock
from tests.support.server import ServerProcess

UNAUTHORIZED_CODES = {"unknown_api_key", "unauthorized"}


def created(result: object) -> CreateApiKeyResponse:
    """A bearer create response (the SDK types org/inbox creates as a union with AgentID public keys)."""
    assert isinstance(result, CreateApiKeyResponse), result
    return result


def bearer(result: object) -> BearerApiKey:
    assert isinstance(result, BearerApiKey), result
    return result


def granted(permissions: ApiKeyPermissions | None) -> dict[str, bool] | None:
    return None if permissions is None else permissions.model_dump(exclude_none=True)


def restricted(**permissions: bool) -> CreateBearerApiKeyRequest:
    return CreateBearerApiKeyRequest(name=unique("restricted"), permissions=ApiKeyPermissions(**permissions))


def all_keys(sdk: AgentMail, *, limit: int = 100, ascending: bool | None = None) -> list[BearerApiKey]:
    def fetch(token: str | None) -> tuple[list[BearerApiKey], str | None]:
        page = sdk.api_keys.list(limit=limit, page_token=token, ascending=ascending)
        assert page.count == len(page.api_keys) <= limit
        return [bearer(key) for key in page.api_keys], page.next_page_token

    return walk(fetch)


def new_inbox(sdk: AgentMail) -> Inbox:
    return sdk.inboxes.create(request=CreateInboxRequest(username=unique("keys")))


# --- organization keys ------------------------------------------------------------------------------------------


def test_create_get_list_update_delete(sdk: AgentMail) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    request = CreateBearerApiKeyRequest(
        name="CI key", permissions=ApiKeyPermissions(inbox_read=True, inbox_create=True), expires_at=expires
    )
    key = created(sdk.api_keys.create(request=request))
    assert key.api_key.startswith("pr_")
    assert len(key.api_key) >= 35
    assert key.prefix == key.api_key[:12]
    assert key.api_key_id.startswith("key_")
    assert key.name == "CI key"
    assert key.pod_id is None
    assert key.inbox_id is None
    assert granted(key.permissions) == {"inbox_read": True, "inbox_create": True}
    assert key.expires_at == expires

    fetched = bearer(sdk.api_keys.get(key.api_key_id))
    assert fetched.type == "bearer"
    assert fetched.prefix == key.prefix
    assert fetched.name == "CI key"
    assert fetched.used_at is None
    assert fetched.expires_at == expires
    assert fetched.created_at == key.created_at
    assert "api_key" not in fetched.model_dump()  # the secret is shown once, at creation

    listed = all_keys(sdk)
    assert [item.api_key_id for item in listed].count(key.api_key_id) == 1
    assert all("api_key" not in item.model_dump() for item in listed)

    renamed = bearer(sdk.api_keys.update(key.api_key_id, name="CI key 2"))
    assert renamed.name == "CI key 2"
    assert granted(renamed.permissions) == {"inbox_read": True, "inbox_create": True}
    assert renamed.updated_at > key.created_at
    regranted = bearer(sdk.api_keys.update(key.api_key_id, permissions=ApiKeyPermissions(inbox_read=True)))
    assert regranted.name == "CI key 2"
    assert granted(regranted.permissions) == {"inbox_read": True}
    assert regranted.expires_at == expires  # expiry is immutable
    unrestricted = bearer(sdk.api_keys.update(key.api_key_id, permissions=None))  # sends "permissions": null
    assert unrestricted.permissions is None
    assert unrestricted.name == "CI key 2"

    response = sdk.api_keys.with_raw_response.delete(key.api_key_id)
    assert response.status_code == 204
    expect_error(lambda: sdk.api_keys.get(key.api_key_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    assert key.api_key_id not in [item.api_key_id for item in all_keys(sdk)]


def test_create_with_an_empty_request(sdk: AgentMail) -> None:
    key = created(sdk.api_keys.create(request=CreateBearerApiKeyRequest()))
    assert key.api_key.startswith("pr_")
    assert key.permissions is None  # unrestricted, like its creator
    assert key.expires_at is None


def test_unknown_key_ids_are_404(sdk: AgentMail) -> None:
    missing = "key_doesnotexist"
    expect_error(lambda: sdk.api_keys.get(missing, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(
        lambda: sdk.api_keys.update(missing, name="x", request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
    expect_error(lambda: sdk.api_keys.delete(missing, request_options=NO_RETRY), 404, "not_found", NotFoundError)


def test_invalid_create_requests_are_400(sdk: AgentMail) -> None:
    past = CreateBearerApiKeyRequest(name="past", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    expect_error(
        lambda: sdk.api_keys.create(request=past, request_options=NO_RETRY), 400, "validation_error", ValidationError
    )
    unknown = CreateBearerApiKeyRequest(name="bogus", permissions=ApiKeyPermissions(no_such_permission=True))
    body = expect_error(
        lambda: sdk.api_keys.create(request=unknown, request_options=NO_RETRY), 400, "validation_error", ValidationError
    )
    assert any("no_such_permission" in item["path"] for item in body["errors"]), body


def test_list_pages_filters_and_orders(sdk: AgentMail) -> None:
    mine = [created(sdk.api_keys.create(request=CreateBearerApiKeyRequest(name=unique("page")))) for _ in range(3)]
    ids = [key.api_key_id for key in mine]
    newest = [key.api_key_id for key in all_keys(sdk, limit=2)]
    assert len(newest) == len(set(newest))
    assert [key_id for key_id in newest if key_id in ids] == list(reversed(ids))
    oldest = [key.api_key_id for key in all_keys(sdk, limit=3, ascending=True)]
    assert oldest == list(reversed(newest))

    bearer_only = sdk.api_keys.list(type="bearer", limit=100)
    assert all(key.type == "bearer" for key in bearer_only.api_keys)
    public = sdk.api_keys.list(type="public_key")
    assert public.count == 0
    assert public.api_keys == []

    first = sdk.api_keys.list(limit=1)
    assert first.count == 1
    assert first.next_page_token
    expect_error(lambda: sdk.api_keys.list(limit=0, request_options=NO_RETRY), 400, "validation_error")
    expect_error(
        lambda: sdk.api_keys.list(limit=1, page_token=first.next_page_token, ascending=True, request_options=NO_RETRY),
        400,
        "validation_error",
    )
    expect_error(
        lambda: sdk.inboxes.list(page_token=first.next_page_token, request_options=NO_RETRY), 400, "validation_error"
    )


# --- revocation, expiry, used_at --------------------------------------------------------------------------------


def test_deleted_key_stops_working_at_once(server: ServerProcess, sdk: AgentMail) -> None:
    key = created(sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="short-lived")))
    holder = client_for(server, key.api_key)
    assert holder.auth.me().api_key_id == key.api_key_id
    sdk.api_keys.delete(key.api_key_id)
    body = expect_error(lambda: holder.auth.me(request_options=NO_RETRY), 401)
    assert body["code"] in UNAUTHORIZED_CODES
    expect_error(lambda: holder.inboxes.list(request_options=NO_RETRY), 401)


def test_key_can_delete_itself(server: ServerProcess, sdk: AgentMail) -> None:
    key = created(sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="self-destruct")))
    holder = client_for(server, key.api_key)
    holder.api_keys.delete(key.api_key_id)
    expect_error(lambda: holder.auth.me(request_options=NO_RETRY), 401)


def test_used_at_is_set_after_use(server: ServerProcess, sdk: AgentMail) -> None:
    key = created(sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="used")))
    assert bearer(sdk.api_keys.get(key.api_key_id)).used_at is None
    before = datetime.now(UTC) - timedelta(seconds=5)
    client_for(server, key.api_key).inboxes.list()
    used_at = bearer(sdk.api_keys.get(key.api_key_id)).used_at
    assert used_at is not None
    assert before <= used_at <= datetime.now(UTC) + timedelta(seconds=5)
    assert used_at >= key.created_at


def test_expired_key_is_401(runtime: Runtime, root_key: str, clock: TestClock) -> None:
    """In process, through the SDK, so the test moves the server's clock past the expiry instead of waiting."""
    app = TestClient(runtime.api(), raise_server_exceptions=False)
    in_process = AgentMailEnvironment(http="http://testserver", websockets="ws://testserver")
    sdk = AgentMail(api_key=root_key, environment=in_process, httpx_client=app)
    expires = datetime.now(UTC) + timedelta(minutes=10)
    key = created(sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="expiring", expires_at=expires)))
    assert key.expires_at is not None
    assert abs((key.expires_at - expires).total_seconds()) < 0.001
    holder = AgentMail(api_key=key.api_key, environment=in_process, httpx_client=app)
    assert holder.auth.me().api_key_id == key.api_key_id
    clock.advance(minutes=11)
    body = expect_error(lambda: holder.auth.me(request_options=NO_RETRY), 401)
    assert body["code"] in UNAUTHORIZED_CODES
    expect_error(lambda: holder.inboxes.list(request_options=NO_RETRY), 401)


def test_keys_never_outlive_their_creator(server: ServerProcess, sdk: AgentMail) -> None:
    expires = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    parent = created(sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="parent", expires_at=expires)))
    holder = client_for(server, parent.api_key)
    child = created(holder.api_keys.create(request=CreateBearerApiKeyRequest(name="child")))
    assert child.expires_at == expires  # omitted expiry inherits the creator's
    later = CreateBearerApiKeyRequest(name="outliver", expires_at=expires + timedelta(hours=1))
    expect_error(lambda: holder.api_keys.create(request=later, request_options=NO_RETRY), 403)


# --- permissions ------------------------------------------------------------------------------------------------


def test_key_without_inbox_read_gets_403_missing_permission(server: ServerProcess, sdk: AgentMail) -> None:
    inbox = new_inbox(sdk)
    key = created(sdk.api_keys.create(request=restricted(inbox_create=True)))
    holder = client_for(server, key.api_key)
    for call in [
        lambda: holder.inboxes.list(request_options=NO_RETRY),
        lambda: holder.inboxes.get(inbox.inbox_id, request_options=NO_RETRY),
        lambda: holder.inboxes.search(q="keys", request_options=NO_RETRY),
    ]:
        body = expect_error(call, 403, "missing_permission")
        assert body["name"] == "ForbiddenError"
        assert "inbox_read" in body.get("fix", "")
    # What it was granted still works.
    assert holder.inboxes.create().inbox_id


def test_key_without_write_permissions_gets_403(server: ServerProcess, sdk: AgentMail) -> None:
    inbox = new_inbox(sdk)
    holder = client_for(server, created(sdk.api_keys.create(request=restricted(inbox_read=True))).api_key)
    assert holder.inboxes.get(inbox.inbox_id).inbox_id == inbox.inbox_id
    calls = [
        lambda: holder.inboxes.create(request_options=NO_RETRY),
        lambda: holder.inboxes.update(inbox.inbox_id, display_name="x", request_options=NO_RETRY),
        lambda: holder.inboxes.delete(inbox.inbox_id, request_options=NO_RETRY),
        lambda: holder.api_keys.list(request_options=NO_RETRY),
        lambda: holder.pods.list(request_options=NO_RETRY),
    ]
    for call in calls:
        expect_error(call, 403, "missing_permission")


def test_restricted_key_cannot_escalate(server: ServerProcess, sdk: AgentMail) -> None:
    manager = created(
        sdk.api_keys.create(
            request=restricted(
                inbox_read=True, api_key_read=True, api_key_create=True, api_key_update=True, api_key_delete=True
            )
        )
    )
    holder = client_for(server, manager.api_key)

    unrestricted = CreateBearerApiKeyRequest(name="full")
    expect_error(
        lambda: holder.api_keys.create(request=unrestricted, request_options=NO_RETRY), 403, "unrestricted_key_required"
    )
    broader = restricted(inbox_read=True, inbox_delete=True)
    expect_error(
        lambda: holder.api_keys.create(request=broader, request_options=NO_RETRY), 403, "permission_escalation"
    )

    narrower = created(holder.api_keys.create(request=restricted(inbox_read=True)))
    assert granted(narrower.permissions) == {"inbox_read": True}
    expect_error(
        lambda: holder.api_keys.update(
            narrower.api_key_id, permissions=ApiKeyPermissions(inbox_delete=True), request_options=NO_RETRY
        ),
        403,
        "permission_escalation",
    )
    expect_error(
        lambda: holder.api_keys.update(narrower.api_key_id, permissions=None, request_options=NO_RETRY),
        403,
        "unrestricted_key_required",
    )
    assert granted(bearer(sdk.api_keys.get(narrower.api_key_id)).permissions) == {"inbox_read": True}
    assert bearer(holder.api_keys.update(narrower.api_key_id, name="renamed")).name == "renamed"

    # A stronger key can be neither changed nor deleted by a weaker one.
    stronger = created(sdk.api_keys.create(request=CreateBearerApiKeyRequest(name=unique("stronger"))))
    expect_error(
        lambda: holder.api_keys.update(stronger.api_key_id, name="pwned", request_options=NO_RETRY),
        403,
        "permission_escalation",
    )
    expect_error(lambda: holder.api_keys.delete(stronger.api_key_id, request_options=NO_RETRY), 403)
    assert bearer(sdk.api_keys.get(stronger.api_key_id)).name == stronger.name
    holder.api_keys.delete(narrower.api_key_id)


def test_opt_in_permissions_are_not_granted_by_default(server: ServerProcess, sdk: AgentMail) -> None:
    """``agent_armor_release`` and ``app_connect`` are not held even by unrestricted keys (spec §2)."""
    request = restricted(inbox_read=True, app_connect=True)
    expect_error(lambda: sdk.api_keys.create(request=request, request_options=NO_RETRY), 403, "permission_escalation")


# --- pod scope --------------------------------------------------------------------------------------------------


def test_pod_keys(server: ServerProcess, sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("key-pod"))
    other = sdk.pods.create(name=unique("key-pod-other"))
    inside = sdk.pods.inboxes.create(pod.pod_id)
    outside = sdk.pods.inboxes.create(other.pod_id)

    key = sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="pod key"))
    assert key.pod_id == pod.pod_id
    assert key.inbox_id is None
    assert key.api_key.startswith("pr_")
    other_key = sdk.pods.api_keys.create(other.pod_id, request=CreateBearerApiKeyRequest(name="other pod key"))
    inbox_key = created(sdk.inboxes.api_keys.create(inside.inbox_id, request=CreateBearerApiKeyRequest(name="ik")))
    assert inbox_key.pod_id == pod.pod_id

    listed = sdk.pods.api_keys.list(pod.pod_id)
    assert listed.count == len(listed.api_keys)
    listed_ids = [item.api_key_id for item in listed.api_keys]
    assert key.api_key_id in listed_ids
    assert other_key.api_key_id not in listed_ids
    assert bearer(sdk.api_keys.get(key.api_key_id)).pod_id == pod.pod_id

    updated = bearer(sdk.pods.api_keys.update(pod.pod_id, key.api_key_id, name="renamed pod key"))
    assert updated.name == "renamed pod key"
    # A key of another pod is not found through this pod's routes.
    expect_error(
        lambda: sdk.pods.api_keys.update(pod.pod_id, other_key.api_key_id, name="x", request_options=NO_RETRY),
        404,
        "not_found",
        NotFoundError,
    )
    expect_error(
        lambda: sdk.pods.api_keys.delete(pod.pod_id, other_key.api_key_id, request_options=NO_RETRY),
        404,
        "not_found",
        NotFoundError,
    )

    holder = client_for(server, key.api_key)
    assert [item.inbox_id for item in holder.inboxes.list().inboxes] == [inside.inbox_id]
    assert holder.inboxes.get(inside.inbox_id).inbox_id == inside.inbox_id
    expect_error(
        lambda: holder.inboxes.get(outside.inbox_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
    # Pod keys manage their own pod's keys but cannot make organization keys or reach other pods.
    child = holder.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="child"))
    assert child.pod_id == pod.pod_id
    expect_error(
        lambda: holder.api_keys.create(request=CreateBearerApiKeyRequest(name="org"), request_options=NO_RETRY), 403
    )
    expect_error(
        lambda: holder.pods.api_keys.list(other.pod_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
    expect_error(
        lambda: holder.api_keys.get(other_key.api_key_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
    holder_keys = [item.api_key_id for item in holder.api_keys.list().api_keys]
    assert key.api_key_id in holder_keys
    assert other_key.api_key_id not in holder_keys

    response = sdk.pods.api_keys.with_raw_response.delete(pod.pod_id, key.api_key_id)
    assert response.status_code == 204
    expect_error(lambda: holder.auth.me(request_options=NO_RETRY), 401)
    expect_error(lambda: sdk.api_keys.get(key.api_key_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)


def test_pod_key_routes_of_an_unknown_pod_are_404(sdk: AgentMail) -> None:
    missing = "pod_doesnotexist"
    expect_error(lambda: sdk.pods.api_keys.list(missing, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(
        lambda: sdk.pods.api_keys.create(missing, request=CreateBearerApiKeyRequest(), request_options=NO_RETRY),
        404,
        "not_found",
        NotFoundError,
    )


# --- inbox scope ------------------------------------------------------------------------------------------------


def test_inbox_scoped_key_sees_only_its_inbox(server: ServerProcess, sdk: AgentMail) -> None:
    inbox = new_inbox(sdk)
    neighbour = sdk.inboxes.create(request=CreateInboxRequest(username=inbox.inbox_id.split("@")[0] + "-2"))
    key = created(sdk.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="inbox key")))
    assert key.inbox_id == inbox.inbox_id
    assert key.pod_id == inbox.pod_id
    holder = client_for(server, key.api_key)

    page = holder.inboxes.list()
    assert page.count == 1
    assert [item.inbox_id for item in page.inboxes] == [inbox.inbox_id]
    assert page.next_page_token is None
    assert holder.inboxes.get(inbox.inbox_id).inbox_id == inbox.inbox_id
    assert [item.inbox_id for item in holder.inboxes.search(q=inbox.inbox_id).inboxes] == [inbox.inbox_id]
    assert holder.inboxes.update(inbox.inbox_id, display_name="Mine").display_name == "Mine"
    for call in [
        lambda: holder.inboxes.get(neighbour.inbox_id, request_options=NO_RETRY),
        lambda: holder.inboxes.update(neighbour.inbox_id, display_name="x", request_options=NO_RETRY),
        lambda: holder.inboxes.delete(neighbour.inbox_id, request_options=NO_RETRY),
        lambda: holder.pods.inboxes.get(inbox.pod_id, inbox.inbox_id, request_options=NO_RETRY),
        lambda: holder.inboxes.api_keys.list(neighbour.inbox_id, request_options=NO_RETRY),
    ]:
        expect_error(call, 404, "not_found", NotFoundError)
    expect_error(lambda: holder.inboxes.create(request_options=NO_RETRY), 403)
    assert sdk.inboxes.get(neighbour.inbox_id).display_name is None
    # At the organization route, an inbox key lists only its own inbox's keys.
    neighbour_key = created(sdk.inboxes.api_keys.create(neighbour.inbox_id, request=CreateBearerApiKeyRequest()))
    visible = [item.api_key_id for item in holder.api_keys.list().api_keys]
    assert visible == [key.api_key_id]
    expect_error(
        lambda: holder.api_keys.get(neighbour_key.api_key_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )


def test_inbox_key_routes(server: ServerProcess, sdk: AgentMail) -> None:
    inbox = new_inbox(sdk)
    other = new_inbox(sdk)
    first = created(sdk.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="one")))
    second = created(
        sdk.inboxes.api_keys.create(
            inbox.inbox_id.upper(), request=CreateBearerApiKeyRequest(permissions=ApiKeyPermissions(inbox_read=True))
        )
    )
    assert second.inbox_id == inbox.inbox_id
    foreign = created(sdk.inboxes.api_keys.create(other.inbox_id, request=CreateBearerApiKeyRequest(name="other")))

    def fetch(token: str | None) -> tuple[list[BearerApiKey], str | None]:
        page = sdk.inboxes.api_keys.list(inbox.inbox_id, limit=1, page_token=token)
        assert page.count == len(page.api_keys) <= 1
        return [bearer(key) for key in page.api_keys], page.next_page_token

    assert [key.api_key_id for key in walk(fetch)] == [second.api_key_id, first.api_key_id]

    renamed = bearer(sdk.inboxes.api_keys.update(inbox.inbox_id, first.api_key_id, name="uno"))
    assert renamed.name == "uno"
    assert renamed.inbox_id == inbox.inbox_id
    for call in [
        lambda: sdk.inboxes.api_keys.update(inbox.inbox_id, foreign.api_key_id, name="x", request_options=NO_RETRY),
        lambda: sdk.inboxes.api_keys.delete(inbox.inbox_id, foreign.api_key_id, request_options=NO_RETRY),
        lambda: sdk.inboxes.api_keys.list("nobody@postroom.localhost", request_options=NO_RETRY),
    ]:
        expect_error(call, 404, "not_found", NotFoundError)

    # An unrestricted inbox key may mint keys for its own inbox only.
    holder = client_for(server, first.api_key)
    minted = created(holder.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="minted")))
    assert minted.inbox_id == inbox.inbox_id
    expect_error(
        lambda: holder.inboxes.api_keys.create(
            other.inbox_id, request=CreateBearerApiKeyRequest(), request_options=NO_RETRY
        ),
        404,
        "not_found",
        NotFoundError,
    )
    expect_error(
        lambda: holder.pods.api_keys.create(
            inbox.pod_id, request=CreateBearerApiKeyRequest(), request_options=NO_RETRY
        ),
        404,
        "not_found",
        NotFoundError,
    )

    response = sdk.inboxes.api_keys.with_raw_response.delete(inbox.inbox_id, first.api_key_id)
    assert response.status_code == 204
    expect_error(lambda: holder.inboxes.list(request_options=NO_RETRY), 401)
    remaining = [key.api_key_id for key in sdk.inboxes.api_keys.list(inbox.inbox_id).api_keys]
    assert remaining == [minted.api_key_id, second.api_key_id]


def test_deleting_an_inbox_revokes_its_keys(server: ServerProcess, sdk: AgentMail) -> None:
    """A key of a deleted inbox must not open a new inbox created later at the same address."""
    inbox = new_inbox(sdk)
    key = created(sdk.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="gone")))
    holder = client_for(server, key.api_key)
    assert holder.inboxes.get(inbox.inbox_id).inbox_id == inbox.inbox_id
    sdk.inboxes.delete(inbox.inbox_id)
    expect_error(lambda: sdk.api_keys.get(key.api_key_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(lambda: holder.inboxes.list(request_options=NO_RETRY), 401)
    again = sdk.inboxes.create(request=CreateInboxRequest(username=inbox.inbox_id.split("@")[0]))
    assert again.inbox_id == inbox.inbox_id
    expect_error(lambda: holder.inboxes.get(again.inbox_id, request_options=NO_RETRY), 401)


# --- async client -----------------------------------------------------------------------------------------------


async def test_async_key_lifecycle(server: ServerProcess, async_sdk: AsyncAgentMail) -> None:
    key = created(await async_sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="async key")))
    fetched = bearer(await async_sdk.api_keys.get(key.api_key_id))
    assert fetched.name == "async key"
    page = await async_sdk.api_keys.list(limit=10)  # newest first
    assert key.api_key_id in [item.api_key_id for item in page.api_keys]
    renamed = bearer(await async_sdk.api_keys.update(key.api_key_id, name="async key 2"))
    assert renamed.name == "async key 2"
    holder = async_client_for(server, key.api_key)
    assert (await holder.auth.me()).api_key_id == key.api_key_id
    await async_sdk.api_keys.delete(key.api_key_id)
    await expect_async_error(lambda: holder.auth.me(request_options=NO_RETRY), 401)
    await expect_async_error(
        lambda: async_sdk.api_keys.get(key.api_key_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )


async def test_async_scoped_keys(server: ServerProcess, async_sdk: AsyncAgentMail) -> None:
    inbox = await async_sdk.inboxes.create(request=CreateInboxRequest(username=unique("async-keys")))
    inbox_key = created(
        await async_sdk.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="ik"))
    )
    listed = await async_sdk.inboxes.api_keys.list(inbox.inbox_id)
    assert [item.api_key_id for item in listed.api_keys] == [inbox_key.api_key_id]
    assert bearer(await async_sdk.inboxes.api_keys.update(inbox.inbox_id, inbox_key.api_key_id, name="ik2")).name == (
        "ik2"
    )
    holder = async_client_for(server, inbox_key.api_key)
    assert [item.inbox_id for item in (await holder.inboxes.list()).inboxes] == [inbox.inbox_id]
    await async_sdk.inboxes.api_keys.delete(inbox.inbox_id, inbox_key.api_key_id)
    await expect_async_error(lambda: holder.inboxes.list(request_options=NO_RETRY), 401)

    pod = await async_sdk.pods.create(name=unique("async-key-pod"))
    pod_key = await async_sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="pk"))
    assert pod_key.pod_id == pod.pod_id
    assert pod_key.api_key_id in [item.api_key_id for item in (await async_sdk.pods.api_keys.list(pod.pod_id)).api_keys]
    assert bearer(await async_sdk.pods.api_keys.update(pod.pod_id, pod_key.api_key_id, name="pk2")).name == "pk2"
    await async_sdk.pods.api_keys.delete(pod.pod_id, pod_key.api_key_id)
    assert (await async_sdk.pods.api_keys.list(pod.pod_id)).count == 0
