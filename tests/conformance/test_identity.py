"""Identity through the official SDKs: ``GET /v0/auth/me`` and ``GET /v0/organizations`` for every key scope."""

from __future__ import annotations

from agentmail import AgentMail, AsyncAgentMail
from agentmail.api_keys import CreateBearerApiKeyRequest
from agentmail.inboxes import CreateInboxRequest

from tests.conformance.conftest import client_for
from tests.conformance.helpers import NO_RETRY, expect_error, unique
from tests.support.server import ServerProcess


def test_me_with_organization_key(sdk: AgentMail) -> None:
    me = sdk.auth.me()
    assert me.scope_type == "organization"
    assert me.organization_id.startswith("org_")
    assert me.scope_id == me.organization_id
    assert me.pod_id is None
    assert me.inbox_id is None
    assert me.api_key_id is not None
    assert me.api_key_id.startswith("key_")


def test_organization_counts_inboxes(sdk: AgentMail) -> None:
    before = sdk.organizations.get()
    assert before.organization_id == sdk.auth.me().organization_id
    assert before.domain_count >= 1  # the default domain
    assert before.created_at <= before.updated_at
    sdk.inboxes.create(request=CreateInboxRequest(username=unique("org-count")))
    after = sdk.organizations.get()
    assert after.organization_id == before.organization_id
    assert after.inbox_count == before.inbox_count + 1


def test_me_and_organization_with_pod_key(server: ServerProcess, sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("identity-pod"))
    sdk.pods.inboxes.create(pod.pod_id, username=unique("in-pod"))
    key = sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="pod key"))
    scoped = client_for(server, key.api_key)
    me = scoped.auth.me()
    assert me.scope_type == "pod"
    assert me.scope_id == pod.pod_id
    assert me.pod_id == pod.pod_id
    assert me.inbox_id is None
    assert me.api_key_id == key.api_key_id
    assert me.organization_id == sdk.auth.me().organization_id
    # The pod key's view of the organization counts only the inboxes it can see.
    assert scoped.organizations.get().inbox_count == 1


def test_me_and_organization_with_inbox_key(server: ServerProcess, sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=unique("identity-inbox")))
    key = sdk.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="inbox key"))
    scoped = client_for(server, key.api_key)
    me = scoped.auth.me()
    assert me.scope_type == "inbox"
    assert me.scope_id == inbox.inbox_id
    assert me.inbox_id == inbox.inbox_id
    assert me.pod_id == inbox.pod_id
    assert me.api_key_id == key.api_key_id
    assert scoped.organizations.get().inbox_count == 1


def test_unknown_key_is_401(server: ServerProcess) -> None:
    stranger = client_for(server, "pr_" + "x" * 40)
    expect_error(lambda: stranger.auth.me(request_options=NO_RETRY), 401, "unknown_api_key")
    expect_error(lambda: stranger.organizations.get(request_options=NO_RETRY), 401, "unknown_api_key")


async def test_async_identity(async_sdk: AsyncAgentMail) -> None:
    me = await async_sdk.auth.me()
    organization = await async_sdk.organizations.get()
    assert me.scope_type == "organization"
    assert organization.organization_id == me.organization_id
