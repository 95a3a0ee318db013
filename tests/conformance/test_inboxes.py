"""Inboxes at organization and pod scope through the official Python SDK (sync and async) against ``postroom serve``.

Covers create/get/list/search/update/delete, pagination, metadata merge, idempotent ``client_id`` and raw path ids.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest
from agentmail import AgentMail, AsyncAgentMail
from agentmail.core.api_error import ApiError
from agentmail.errors import NotFoundError, UnprocessableError, ValidationError
from agentmail.inboxes import CreateInboxRequest, Inbox

from tests.conformance.helpers import (
    DEFAULT_DOMAIN,
    NO_RETRY,
    address,
    check_error,
    expect_async_error,
    expect_error,
    unique,
    walk,
    walk_async,
)


def newest_first(inboxes: list[Inbox]) -> list[str]:
    """The order the list endpoint must return: created_at descending, ties broken by id descending."""
    ordered = sorted(inboxes, key=lambda inbox: (inbox.created_at, inbox.inbox_id), reverse=True)
    return [inbox.inbox_id for inbox in ordered]


def fill_pod(sdk: AgentMail, count: int) -> tuple[str, list[Inbox]]:
    pod = sdk.pods.create(name=unique("fill"))
    created = [sdk.pods.inboxes.create(pod.pod_id, username=unique(f"fill{n}")) for n in range(count)]
    return pod.pod_id, created


# --- create -----------------------------------------------------------------------------------------------------


def test_create_without_body_generates_an_address(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create()
    username, _, domain = inbox.inbox_id.partition("@")
    assert domain == DEFAULT_DOMAIN
    assert username
    assert username == username.lower()
    assert inbox.email == inbox.inbox_id
    assert inbox.pod_id.startswith("pod_")
    assert inbox.status is None  # omitted while active
    assert inbox.display_name is None
    assert inbox.client_id is None
    assert inbox.metadata is None
    assert inbox.created_at == inbox.updated_at
    assert inbox.created_at.tzinfo is not None
    assert sdk.inboxes.create().inbox_id != inbox.inbox_id


def test_create_with_every_field(sdk: AgentMail) -> None:
    username = unique("Every")
    client_id = unique("client")
    inbox = sdk.inboxes.create(
        request=CreateInboxRequest(
            username=username,
            domain=DEFAULT_DOMAIN.upper(),
            display_name="Every Field",
            client_id=client_id,
            status="paused",
            metadata={"team": "ops", "seats": 3, "ratio": 0.5, "on": False},
        )
    )
    assert inbox.inbox_id == address(username.lower())
    assert inbox.email == inbox.inbox_id
    assert inbox.display_name == "Every Field"
    assert inbox.client_id == client_id
    assert inbox.status == "paused"
    assert inbox.metadata == {"team": "ops", "seats": 3, "ratio": 0.5, "on": False}
    assert inbox.metadata["on"] is False
    fetched = sdk.inboxes.get(inbox.inbox_id)
    assert fetched.model_dump() == inbox.model_dump()


def test_display_name_round_trips_unicode_and_rejects_line_breaks(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(display_name='Zoë\'s Agent 🚀 — "quoted"'))
    assert sdk.inboxes.get(inbox.inbox_id).display_name == 'Zoë\'s Agent 🚀 — "quoted"'
    for bad in ["line\nbreak", "x" * 257]:
        expect_error(
            lambda bad=bad: sdk.inboxes.create(request=CreateInboxRequest(display_name=bad), request_options=NO_RETRY),
            400,
            "validation_error",
            ValidationError,
        )
        expect_error(
            lambda bad=bad: sdk.inboxes.update(inbox.inbox_id, display_name=bad, request_options=NO_RETRY),
            400,
            "validation_error",
            ValidationError,
        )


def test_new_inbox_goes_to_the_default_pod(sdk: AgentMail) -> None:
    first = sdk.inboxes.create()
    second = sdk.inboxes.create(request=CreateInboxRequest(username=unique("default-pod")))
    assert first.pod_id == second.pod_id
    pod = sdk.pods.get(first.pod_id)
    assert pod.pod_id == first.pod_id


def test_taken_address_is_409_already_exists(sdk: AgentMail) -> None:
    username = unique("taken")
    sdk.inboxes.create(request=CreateInboxRequest(username=username))
    again = CreateInboxRequest(username=username.upper())
    expect_error(lambda: sdk.inboxes.create(request=again, request_options=NO_RETRY), 409, "already_exists")


def test_unknown_domain_is_422(sdk: AgentMail) -> None:
    request = CreateInboxRequest(username=unique("nodomain"), domain="example.com")
    expect_error(lambda: sdk.inboxes.create(request=request, request_options=NO_RETRY), 422, kind=UnprocessableError)


@pytest.mark.parametrize("username", ["a+b", "has space", ".leading", "trailing.", "dou..ble", "x" * 65, "ünï"])
def test_invalid_username_is_400(sdk: AgentMail, username: str) -> None:
    request = CreateInboxRequest(username=username)
    body = expect_error(
        lambda: sdk.inboxes.create(request=request, request_options=NO_RETRY), 400, "validation_error", ValidationError
    )
    assert any(item["path"] == "username" for item in body["errors"]), body


def test_client_id_retry_returns_the_same_inbox(sdk: AgentMail) -> None:
    client_id = unique("retry")
    first = sdk.inboxes.create(request=CreateInboxRequest(client_id=client_id, display_name="First"))
    second = sdk.inboxes.create(request=CreateInboxRequest(client_id=client_id, display_name="Second"))
    assert second.inbox_id == first.inbox_id
    assert second.display_name == "First"
    assert second.created_at == first.created_at
    everything = walk(lambda token: _org_page(sdk, token))
    assert [inbox.inbox_id for inbox in everything if inbox.client_id == client_id] == [first.inbox_id]


def test_client_id_with_at_sign_is_400(sdk: AgentMail) -> None:
    request = CreateInboxRequest(client_id="not@allowed")
    expect_error(lambda: sdk.inboxes.create(request=request, request_options=NO_RETRY), 400, "validation_error")


# --- get / delete -----------------------------------------------------------------------------------------------


def test_get_unknown_inbox_is_404(sdk: AgentMail) -> None:
    missing = address(unique("missing"))
    body = expect_error(lambda: sdk.inboxes.get(missing, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    assert body["name"] == "NotFoundError"


def test_delete_answers_204_and_frees_the_address(sdk: AgentMail) -> None:
    username = unique("delete")
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=username, display_name="Old"))
    response = sdk.inboxes.with_raw_response.delete(inbox.inbox_id)
    assert response.status_code == 204
    expect_error(lambda: sdk.inboxes.get(inbox.inbox_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    expect_error(lambda: sdk.inboxes.delete(inbox.inbox_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)
    ids = {item.inbox_id for item in walk(lambda token: _org_page(sdk, token))}
    assert inbox.inbox_id not in ids
    again = sdk.inboxes.create(request=CreateInboxRequest(username=username))
    assert again.inbox_id == inbox.inbox_id
    assert again.display_name is None


# --- list and pagination ----------------------------------------------------------------------------------------


def _org_page(sdk: AgentMail, token: str | None, *, ascending: bool | None = None) -> tuple[list[Inbox], str | None]:
    page = sdk.inboxes.list(limit=100, page_token=token, ascending=ascending)
    assert page.count == len(page.inboxes)
    return page.inboxes, page.next_page_token


def test_walk_every_page_of_a_pod(sdk: AgentMail) -> None:
    pod_id, created = fill_pod(sdk, 7)
    sizes: list[int] = []

    def fetch(token: str | None) -> tuple[list[Inbox], str | None]:
        page = sdk.pods.inboxes.list(pod_id, limit=3, page_token=token)
        assert page.count == len(page.inboxes)
        assert page.limit == 3
        sizes.append(page.count)
        return page.inboxes, page.next_page_token

    listed = walk(fetch)
    assert sizes == [3, 3, 1]
    assert [inbox.inbox_id for inbox in listed] == newest_first(created)


def test_ascending_flips_the_order(sdk: AgentMail) -> None:
    pod_id, created = fill_pod(sdk, 5)

    def fetch(token: str | None) -> tuple[list[Inbox], str | None]:
        page = sdk.pods.inboxes.list(pod_id, limit=2, page_token=token, ascending=True)
        return page.inboxes, page.next_page_token

    listed = [inbox.inbox_id for inbox in walk(fetch)]
    assert listed == list(reversed(newest_first(created)))
    assert listed[0] == created[0].inbox_id


def test_walk_the_organization_list_without_duplicates_or_misses(sdk: AgentMail) -> None:
    created = [sdk.inboxes.create().inbox_id for _ in range(3)]

    def fetch(token: str | None) -> tuple[list[Inbox], str | None]:
        page = sdk.inboxes.list(limit=7, page_token=token)
        assert page.count == len(page.inboxes) <= 7
        return page.inboxes, page.next_page_token

    listed = walk(fetch)
    ids = [inbox.inbox_id for inbox in listed]
    assert len(ids) == len(set(ids))
    assert set(created) <= set(ids)
    assert ids == newest_first(listed)
    assert sdk.organizations.get().inbox_count == len(ids)
    ascending = [inbox.inbox_id for inbox in walk(lambda token: _org_page(sdk, token, ascending=True))]
    assert ascending == list(reversed(ids))


def test_page_size_defaults_to_50_and_is_clamped_to_100(sdk: AgentMail) -> None:
    pod_id, created = fill_pod(sdk, 101)
    default = sdk.pods.inboxes.list(pod_id)
    assert default.limit == 50
    assert default.count == 50
    assert default.next_page_token
    clamped = sdk.pods.inboxes.list(pod_id, limit=1000)
    assert clamped.limit == 100
    assert clamped.count == 100
    assert clamped.next_page_token
    rest = sdk.pods.inboxes.list(pod_id, limit=1000, page_token=clamped.next_page_token)
    assert rest.count == 1
    assert rest.next_page_token is None
    listed = [inbox.inbox_id for inbox in [*clamped.inboxes, *rest.inboxes]]
    assert listed == newest_first(created)


@pytest.mark.parametrize("limit", [0, -1])
def test_non_positive_limit_is_400(sdk: AgentMail, limit: int) -> None:
    expect_error(lambda: sdk.inboxes.list(limit=limit, request_options=NO_RETRY), 400, "validation_error")
    expect_error(
        lambda: sdk.inboxes.search(q="conf", limit=limit, request_options=NO_RETRY),
        400,
        "validation_error",
        ValidationError,
    )


def test_page_token_is_bound_to_its_endpoint_and_filters(sdk: AgentMail) -> None:
    pod_id, _ = fill_pod(sdk, 2)
    other_pod, _ = fill_pod(sdk, 2)
    token = sdk.pods.inboxes.list(pod_id, limit=1).next_page_token
    assert token
    reuse = [
        lambda: sdk.pods.inboxes.list(other_pod, limit=1, page_token=token, request_options=NO_RETRY),
        lambda: sdk.pods.inboxes.list(pod_id, limit=1, page_token=token, ascending=True, request_options=NO_RETRY),
        lambda: sdk.inboxes.list(limit=1, page_token=token, request_options=NO_RETRY),
        lambda: sdk.inboxes.search(q="fill", page_token=token, request_options=NO_RETRY),
        lambda: sdk.pods.list(page_token=token, request_options=NO_RETRY),
        lambda: sdk.api_keys.list(page_token=token, request_options=NO_RETRY),
        lambda: sdk.inboxes.list(page_token=token[:-2] + "xx", request_options=NO_RETRY),
    ]
    for call in reuse:
        expect_error(call, 400, "validation_error")


# --- search -----------------------------------------------------------------------------------------------------


def test_search_matches_word_prefixes_and_puts_the_exact_address_first(sdk: AgentMail) -> None:
    tag = f"srch{uuid.uuid4().hex[:10]}"
    exact = sdk.inboxes.create(request=CreateInboxRequest(username=tag)).inbox_id
    dotted = sdk.inboxes.create(request=CreateInboxRequest(username=f"{tag}.bot")).inbox_id
    dashed = sdk.inboxes.create(request=CreateInboxRequest(username=f"x-{exact.split('@')[0]}")).inbox_id
    named = sdk.inboxes.create(request=CreateInboxRequest(display_name=f"{exact} Helper")).inbox_id
    sdk.inboxes.create(request=CreateInboxRequest(username=f"x{tag}"))  # mid-word: never matches

    by_address = sdk.inboxes.search(q=exact)
    assert by_address.count == len(by_address.inboxes)
    assert by_address.inboxes[0].inbox_id == exact
    assert {inbox.inbox_id for inbox in by_address.inboxes} == {exact, dashed, named}

    by_prefix = sdk.inboxes.search(q=tag.upper())
    assert {inbox.inbox_id for inbox in by_prefix.inboxes} == {exact, dotted, dashed, named}
    assert by_prefix.next_page_token is None

    both_words = sdk.inboxes.search(q=f"{tag} help")
    assert [inbox.inbox_id for inbox in both_words.inboxes] == [named]
    assert sdk.inboxes.search(q=tag[1:]).count == 0


def test_search_pages_walk_to_the_end_across_ranks(sdk: AgentMail) -> None:
    tag = f"walk{uuid.uuid4().hex[:10]}"
    exact = sdk.inboxes.create(request=CreateInboxRequest(username=tag)).inbox_id
    created = {exact}
    created |= {sdk.inboxes.create(request=CreateInboxRequest(username=f"{tag}-{n}")).inbox_id for n in range(3)}
    created.add(sdk.inboxes.create(request=CreateInboxRequest(username=f"x-{tag}")).inbox_id)
    created.add(sdk.inboxes.create(request=CreateInboxRequest(display_name=f"The {tag.upper()} desk")).inbox_id)

    for q, limit, wanted in [(tag, 2, created), (exact, 1, {exact, f"x-{exact}"})]:

        def fetch(token: str | None, q: str = q, limit: int = limit) -> tuple[list[Inbox], str | None]:
            page = sdk.inboxes.search(q=q, limit=limit, page_token=token)
            assert page.count == len(page.inboxes) <= limit
            return page.inboxes, page.next_page_token

        found = [inbox.inbox_id for inbox in walk(fetch)]
        assert len(found) == len(set(found)), found
        assert set(found) == wanted
        assert found == [inbox.inbox_id for inbox in sdk.inboxes.search(q=q, limit=100).inboxes]
    assert walk(lambda token: _search_page(sdk, exact, token))[0].inbox_id == exact


def _search_page(sdk: AgentMail, q: str, token: str | None) -> tuple[list[Inbox], str | None]:
    page = sdk.inboxes.search(q=q, limit=1, page_token=token)
    return page.inboxes, page.next_page_token


def test_search_token_is_bound_to_its_query(sdk: AgentMail) -> None:
    tag = f"bound{uuid.uuid4().hex[:10]}"
    for n in range(2):
        sdk.inboxes.create(request=CreateInboxRequest(username=f"{tag}-{n}"))
    token = sdk.inboxes.search(q=tag, limit=1).next_page_token
    assert token
    expect_error(
        lambda: sdk.inboxes.search(q=f"{tag}-1", limit=1, page_token=token, request_options=NO_RETRY),
        400,
        "validation_error",
        ValidationError,
    )
    expect_error(lambda: sdk.inboxes.list(page_token=token, request_options=NO_RETRY), 400, "validation_error")
    assert sdk.inboxes.search(q="conf", limit=1000).limit == 100


def test_search_treats_like_wildcards_literally(sdk: AgentMail) -> None:
    tag = uuid.uuid4().hex[:10]
    underscore = sdk.inboxes.create(request=CreateInboxRequest(username=f"u_{tag}")).inbox_id
    sdk.inboxes.create(request=CreateInboxRequest(username=f"ux{tag}"))
    percent_named = sdk.inboxes.create(request=CreateInboxRequest(display_name=f"p%{tag}")).inbox_id
    sdk.inboxes.create(request=CreateInboxRequest(display_name=f"pxx{tag}"))
    assert [inbox.inbox_id for inbox in sdk.inboxes.search(q=f"u_{tag}").inboxes] == [underscore]
    assert [inbox.inbox_id for inbox in sdk.inboxes.search(q=f"p%{tag}").inboxes] == [percent_named]


@pytest.mark.parametrize("q", ["a", "x" * 257, " "])
def test_search_query_length_is_checked(sdk: AgentMail, q: str) -> None:
    expect_error(lambda: sdk.inboxes.search(q=q, request_options=NO_RETRY), 400, "validation_error", ValidationError)


# --- update -----------------------------------------------------------------------------------------------------


def test_update_display_name_and_status(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(display_name="Before"))
    renamed = sdk.inboxes.update(inbox.inbox_id, display_name="After")
    assert renamed.display_name == "After"
    assert renamed.updated_at > inbox.updated_at
    assert renamed.created_at == inbox.created_at
    paused = sdk.inboxes.update(inbox.inbox_id, status="paused")
    assert paused.status == "paused"
    assert paused.display_name == "After"
    assert sdk.inboxes.get(inbox.inbox_id).status == "paused"
    resumed = sdk.inboxes.update(inbox.inbox_id, status="active")
    assert resumed.status is None  # "active" is never emitted
    assert sdk.inboxes.get(inbox.inbox_id).status is None


def test_metadata_merge_semantics_of_the_inboxes_page(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(
        request=CreateInboxRequest(
            username=unique("support-agent"),
            metadata={"tenant_id": "acme", "seat_count": 5, "monthly_spend": 19.99, "active": True},
        )
    )
    assert inbox.metadata == {"tenant_id": "acme", "seat_count": 5, "monthly_spend": 19.99, "active": True}

    # "keys you include are added or overwritten, and keys you omit are preserved"
    merged = sdk.inboxes.update(inbox.inbox_id, metadata={"tier": "enterprise", "seat_count": 6})
    assert merged.metadata == {
        "tenant_id": "acme",
        "seat_count": 6,
        "monthly_spend": 19.99,
        "active": True,
        "tier": "enterprise",
    }
    # "To remove a single key, send it with a null value"
    removed = sdk.inboxes.update(inbox.inbox_id, metadata={"tier": None, "never-set": None})
    assert removed.metadata == {"tenant_id": "acme", "seat_count": 6, "monthly_spend": 19.99, "active": True}
    # An update of another field leaves metadata alone.
    assert sdk.inboxes.update(inbox.inbox_id, display_name="Support").metadata == removed.metadata
    # "To clear all metadata at once, send metadata as null"
    cleared = sdk.inboxes.update(inbox.inbox_id, metadata=None)
    assert cleared.metadata is None
    assert sdk.inboxes.get(inbox.inbox_id).metadata is None
    assert sdk.inboxes.update(inbox.inbox_id, metadata={"again": True}).metadata == {"again": True}
    # Removing the last key leaves no metadata at all.
    assert sdk.inboxes.update(inbox.inbox_id, metadata={"again": None}).metadata is None


def test_empty_updates_are_400(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create(request=CreateInboxRequest(metadata={"keep": "me"}))
    expect_error(
        lambda: sdk.inboxes.update(inbox.inbox_id, metadata={}, request_options=NO_RETRY),
        400,
        "validation_error",
        ValidationError,
    )
    # "Every update must include either display_name or metadata"
    expect_error(
        lambda: sdk.inboxes.update(inbox.inbox_id, request_options=NO_RETRY), 400, "validation_error", ValidationError
    )
    assert sdk.inboxes.get(inbox.inbox_id).metadata == {"keep": "me"}


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{n}": "v" for n in range(257)},
        {"long": "v" * 257},
        {"k" * 257: "v"},
        {"nested": {"a": 1}},
        {"list": [1, 2]},
    ],
    ids=["257-keys", "long-value", "long-key", "nested", "list"],
)
@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic warns while serializing the deliberately bad values
def test_metadata_limits_are_400(sdk: AgentMail, metadata: dict[str, object]) -> None:
    request = CreateInboxRequest.model_construct(metadata=metadata)  # bypass the SDK's own model validation
    expect_error(
        lambda: sdk.inboxes.create(request=request, request_options=NO_RETRY), 400, "validation_error", ValidationError
    )
    inbox = sdk.inboxes.create(request=CreateInboxRequest(metadata={"k0": 0}))
    expect_error(
        lambda: sdk.inboxes.update(inbox.inbox_id, metadata=metadata, request_options=NO_RETRY),  # type: ignore[arg-type]
        400,
        "validation_error",
        ValidationError,
    )


def test_metadata_may_hold_256_keys(sdk: AgentMail) -> None:
    metadata: dict[str, str | float | bool] = {f"k{n}": "v" * 256 for n in range(256)}
    inbox = sdk.inboxes.create(request=CreateInboxRequest(metadata=metadata))
    assert inbox.metadata == metadata
    expect_error(
        lambda: sdk.inboxes.update(inbox.inbox_id, metadata={"one-more": 1}, request_options=NO_RETRY),
        400,
        "validation_error",
        ValidationError,
    )


def test_update_unknown_inbox_is_404(sdk: AgentMail) -> None:
    missing = address(unique("missing"))
    expect_error(
        lambda: sdk.inboxes.update(missing, display_name="x", request_options=NO_RETRY),
        404,
        "not_found",
        NotFoundError,
    )


# --- pod scope --------------------------------------------------------------------------------------------------


def test_pod_scoped_inbox_routes(sdk: AgentMail) -> None:
    pod = sdk.pods.create(name=unique("scope"))
    other = sdk.pods.create(name=unique("scope-other"))
    tag = f"pod{uuid.uuid4().hex[:10]}"
    inbox = sdk.pods.inboxes.create(
        pod.pod_id,
        username=f"{tag}-a",
        display_name="In Pod",
        client_id=unique("pod-client"),
        metadata={"pod": True},
    )
    assert inbox.pod_id == pod.pod_id
    assert inbox.metadata == {"pod": True}
    assert sdk.pods.inboxes.create(pod.pod_id, client_id=inbox.client_id).inbox_id == inbox.inbox_id
    outside = sdk.inboxes.create(request=CreateInboxRequest(username=f"{tag}-b"))

    assert sdk.pods.inboxes.get(pod.pod_id, inbox.inbox_id).model_dump() == inbox.model_dump()
    assert sdk.inboxes.get(inbox.inbox_id).pod_id == pod.pod_id
    listed = sdk.pods.inboxes.list(pod.pod_id)
    assert [item.inbox_id for item in listed.inboxes] == [inbox.inbox_id]
    assert [item.inbox_id for item in sdk.pods.inboxes.search(pod.pod_id, q=tag).inboxes] == [inbox.inbox_id]
    assert {item.inbox_id for item in sdk.inboxes.search(q=tag).inboxes} == {inbox.inbox_id, outside.inbox_id}

    updated = sdk.pods.inboxes.update(pod.pod_id, inbox.inbox_id, display_name="Renamed", metadata={"n": 2})
    assert updated.display_name == "Renamed"
    assert updated.metadata == {"pod": True, "n": 2}

    # An inbox of another pod, or of no pod route at all, is not found through this pod's routes.
    for pod_id, inbox_id in [(other.pod_id, inbox.inbox_id), (pod.pod_id, outside.inbox_id)]:
        expect_error(
            lambda p=pod_id, i=inbox_id: sdk.pods.inboxes.get(p, i, request_options=NO_RETRY),
            404,
            "not_found",
            NotFoundError,
        )
        expect_error(
            lambda p=pod_id, i=inbox_id: sdk.pods.inboxes.update(p, i, display_name="x", request_options=NO_RETRY),
            404,
            "not_found",
            NotFoundError,
        )
        expect_error(
            lambda p=pod_id, i=inbox_id: sdk.pods.inboxes.delete(p, i, request_options=NO_RETRY),
            404,
            "not_found",
            NotFoundError,
        )
    assert sdk.pods.inboxes.list(other.pod_id).count == 0

    response = sdk.pods.inboxes.with_raw_response.delete(pod.pod_id, inbox.inbox_id)
    assert response.status_code == 204
    expect_error(lambda: sdk.inboxes.get(inbox.inbox_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)


def test_pod_routes_of_an_unknown_pod_are_404(sdk: AgentMail) -> None:
    missing = "pod_doesnotexist"
    calls = [
        lambda: sdk.pods.inboxes.list(missing, request_options=NO_RETRY),
        lambda: sdk.pods.inboxes.search(missing, q="abc", request_options=NO_RETRY),
        lambda: sdk.pods.inboxes.get(missing, address("nobody"), request_options=NO_RETRY),
    ]
    for call in calls:
        expect_error(call, 404, "not_found", NotFoundError)
    # The SDK declares no 404 on pod-scoped create, so it surfaces as a plain ApiError.
    expect_error(lambda: sdk.pods.inboxes.create(missing, request_options=NO_RETRY), 404, "not_found")


def test_pod_scoped_create_checks_its_input(sdk: AgentMail) -> None:
    pod = sdk.pods.create()
    expect_error(
        lambda: sdk.pods.inboxes.create(pod.pod_id, domain="example.com", request_options=NO_RETRY),
        422,
        kind=UnprocessableError,
    )
    expect_error(
        lambda: sdk.pods.inboxes.create(pod.pod_id, username="bad name", request_options=NO_RETRY),
        400,
        "validation_error",
        ValidationError,
    )


# --- raw path ids -----------------------------------------------------------------------------------------------


def test_ids_with_punctuation_reach_the_right_inbox(sdk: AgentMail) -> None:
    tag = uuid.uuid4().hex[:10]
    names = [f"a.b{tag}", f"ab{tag}", f"a-b{tag}", f"a_b{tag}", f"a.b-c_d{tag}"]
    for name in names:
        sdk.inboxes.create(request=CreateInboxRequest(username=name, display_name=name))
    for name in names:
        inbox = sdk.inboxes.get(address(name))
        assert inbox.inbox_id == address(name)
        assert inbox.display_name == name
        assert sdk.inboxes.update(address(name), metadata={"name": name}).metadata == {"name": name}


def test_upper_case_id_maps_to_the_lower_case_inbox(sdk: AgentMail) -> None:
    username = f"a.b-c_d{uuid.uuid4().hex[:10]}"
    inbox = sdk.inboxes.create(request=CreateInboxRequest(username=username))
    shouted = inbox.inbox_id.upper()
    assert sdk.inboxes.get(shouted).inbox_id == inbox.inbox_id
    assert sdk.pods.inboxes.get(inbox.pod_id, shouted).inbox_id == inbox.inbox_id
    assert sdk.inboxes.update(shouted, display_name="Loud").inbox_id == inbox.inbox_id
    assert sdk.inboxes.get(inbox.inbox_id).display_name == "Loud"
    sdk.inboxes.delete(shouted)
    expect_error(lambda: sdk.inboxes.get(inbox.inbox_id, request_options=NO_RETRY), 404, "not_found", NotFoundError)


def test_plus_in_an_id_is_not_a_space(sdk: AgentMail) -> None:
    """``+`` is not a username character (spec §8), so ``A+B@...`` in a raw path names no inbox: 404, not 400/500."""
    tag = uuid.uuid4().hex[:10]
    sdk.inboxes.create(request=CreateInboxRequest(username=f"a{tag}"))
    for inbox_id in [f"a+{tag}@{DEFAULT_DOMAIN}", f"A+{tag.upper()}@{DEFAULT_DOMAIN.upper()}", f"a {tag}@x"]:
        expect_error(lambda i=inbox_id: sdk.inboxes.get(i, request_options=NO_RETRY), 404, "not_found", NotFoundError)


# --- async client -----------------------------------------------------------------------------------------------


async def test_async_inbox_lifecycle(async_sdk: AsyncAgentMail) -> None:
    username = unique("async")
    created = await async_sdk.inboxes.create(
        request=CreateInboxRequest(username=username, display_name="Async", metadata={"a": 1})
    )
    assert created.inbox_id == address(username)
    assert (await async_sdk.inboxes.get(created.inbox_id.upper())).inbox_id == created.inbox_id
    updated = await async_sdk.inboxes.update(created.inbox_id, display_name="Async 2", metadata={"b": "x"})
    assert updated.display_name == "Async 2"
    assert updated.metadata == {"a": 1, "b": "x"}
    assert (await async_sdk.inboxes.update(created.inbox_id, metadata=None)).metadata is None

    async def fetch(token: str | None) -> tuple[list[Inbox], str | None]:
        page = await async_sdk.inboxes.list(limit=10, page_token=token)
        return page.inboxes, page.next_page_token

    listed = [inbox.inbox_id for inbox in await walk_async(fetch)]
    assert created.inbox_id in listed
    assert len(listed) == len(set(listed))
    found = await async_sdk.inboxes.search(q=created.inbox_id)
    assert found.inboxes[0].inbox_id == created.inbox_id

    await async_sdk.inboxes.delete(created.inbox_id)
    await expect_async_error(
        lambda: async_sdk.inboxes.get(created.inbox_id, request_options=NO_RETRY), 404, "not_found", NotFoundError
    )
    await expect_async_error(
        lambda: async_sdk.inboxes.create(request=CreateInboxRequest(domain="example.com"), request_options=NO_RETRY),
        422,
        kind=UnprocessableError,
    )


async def test_async_client_id_and_taken_address(async_sdk: AsyncAgentMail) -> None:
    client_id = unique("async-client")
    first = await async_sdk.inboxes.create(request=CreateInboxRequest(client_id=client_id))
    second = await async_sdk.inboxes.create(request=CreateInboxRequest(client_id=client_id))
    assert first.inbox_id == second.inbox_id
    taken = CreateInboxRequest(username=first.inbox_id.split("@")[0])
    await expect_async_error(
        lambda: async_sdk.inboxes.create(request=taken, request_options=NO_RETRY), 409, "already_exists"
    )


async def test_async_pod_scoped_inboxes(async_sdk: AsyncAgentMail) -> None:
    pod = await async_sdk.pods.create(name=unique("async-pod"))
    inbox = await async_sdk.pods.inboxes.create(pod.pod_id, username=unique("async-in-pod"))
    assert (await async_sdk.pods.inboxes.get(pod.pod_id, inbox.inbox_id)).pod_id == pod.pod_id
    page = await async_sdk.pods.inboxes.list(pod.pod_id, ascending=True)
    assert [item.inbox_id for item in page.inboxes] == [inbox.inbox_id]
    updated = await async_sdk.pods.inboxes.update(pod.pod_id, inbox.inbox_id, status="paused")
    assert updated.status == "paused"
    await async_sdk.pods.inboxes.delete(pod.pod_id, inbox.inbox_id)
    assert (await async_sdk.pods.inboxes.list(pod.pod_id)).count == 0
    await async_sdk.pods.delete(pod.pod_id)


def test_timestamps_are_utc(sdk: AgentMail) -> None:
    inbox = sdk.inboxes.create()
    assert isinstance(inbox.created_at, datetime)
    assert inbox.created_at.utcoffset() is not None
    assert inbox.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


async def test_concurrent_client_id_creates_yield_one_inbox(async_sdk: AsyncAgentMail) -> None:
    client_id = unique("race")
    request = CreateInboxRequest(client_id=client_id)
    results = await asyncio.gather(*(async_sdk.inboxes.create(request=request) for _ in range(8)))
    assert len({inbox.inbox_id for inbox in results}) == 1


async def test_concurrent_creates_of_one_address_make_one_inbox(async_sdk: AsyncAgentMail) -> None:
    request = CreateInboxRequest(username=unique("race-name"))
    results = await asyncio.gather(
        *(async_sdk.inboxes.create(request=request, request_options=NO_RETRY) for _ in range(8)),
        return_exceptions=True,
    )
    made = [result for result in results if isinstance(result, Inbox)]
    refused = [result for result in results if not isinstance(result, Inbox)]
    assert len(made) == 1, results
    for error in refused:
        assert isinstance(error, ApiError), error
        check_error(error, 409, "already_exists")
