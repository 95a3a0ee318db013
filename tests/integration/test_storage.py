"""Repositories and the unit of work on SQLite and PostgreSQL: round trips, conflicts, cascades, keyset order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from postroom.domain.access import ApiKey, Organization, Pod
from postroom.domain.inbox import Inbox, InboxStatus
from postroom.domain.listing import InboxScope, KeyScope
from postroom.domain.pagination import PageRequest
from postroom.errors import Conflict
from postroom.storage.engine import create_database_engine
from postroom.storage.uow import SqlUnitOfWorkFactory

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def uow(database_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    engine = create_database_engine(database_url)
    factory = SqlUnitOfWorkFactory(engine)
    with factory(write=True) as work:
        work.organizations.add(Organization("org_1", T0, T0))
        work.pods.add(Pod("pod_default", "org_1", "Default Pod", None, True, T0, T0))
        work.pods.add(Pod("pod_b", "org_1", "B", "client-b", False, T0, T0))
        work.commit()
    yield factory
    engine.dispose()


def inbox(address: str, pod_id: str = "pod_default", created_at: datetime = T0, **fields: object) -> Inbox:
    username, domain = address.split("@")
    values: dict[str, object] = {
        "inbox_id": address,
        "organization_id": "org_1",
        "pod_id": pod_id,
        "username": username,
        "domain": domain,
        "display_name": None,
        "client_id": None,
        "status": InboxStatus.ACTIVE,
        "metadata": None,
        "created_at": created_at,
        "updated_at": created_at,
    }
    values.update(fields)
    return Inbox(**values)  # type: ignore[arg-type]


def key(key_id: str, **fields: object) -> ApiKey:
    values: dict[str, object] = {
        "api_key_id": key_id,
        "organization_id": "org_1",
        "pod_id": None,
        "inbox_id": None,
        "name": key_id,
        "prefix": "pr_x",
        "secret_hash": f"hash-{key_id}",
        "permissions": None,
        "expires_at": None,
        "used_at": None,
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return ApiKey(**values)  # type: ignore[arg-type]


def test_inbox_round_trip_keeps_types_and_utc(uow: SqlUnitOfWorkFactory) -> None:
    original = inbox("a@x.test", display_name="Ann", metadata={"n": 5, "f": 1.5, "b": False, "s": "v"})
    with uow(write=True) as work:
        work.inboxes.add(original)
        work.commit()
    with uow() as work:
        loaded = work.inboxes.get("a@x.test")
    assert loaded == original
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at == T0


def test_metadata_none_is_sql_null_and_update_changes_fields(uow: SqlUnitOfWorkFactory) -> None:
    with uow(write=True) as work:
        work.inboxes.add(inbox("a@x.test", metadata={"k": "v"}))
        work.commit()
    with uow(write=True) as work:
        loaded = work.inboxes.get("a@x.test")
        assert loaded is not None
        work.inboxes.update(replace(loaded, metadata=None, status=InboxStatus.PAUSED, display_name="D"))
        work.commit()
    with uow() as work:
        loaded = work.inboxes.get("a@x.test")
    assert loaded is not None
    assert (loaded.metadata, loaded.status, loaded.display_name) == (None, InboxStatus.PAUSED, "D")


def test_uniqueness_surfaces_as_conflict_and_rolls_back(uow: SqlUnitOfWorkFactory) -> None:
    with uow(write=True) as work:
        work.inboxes.add(inbox("a@x.test", client_id="c1"))
        work.commit()
    for duplicate in (inbox("a@x.test"), inbox("b@x.test", client_id="c1")):
        with uow(write=True) as work, pytest.raises(Conflict):
            work.inboxes.add(duplicate)
    with uow() as work:
        assert work.inboxes.count(InboxScope("org_1")) == 1


def test_uncommitted_work_is_rolled_back(uow: SqlUnitOfWorkFactory) -> None:
    with uow(write=True) as work:
        work.inboxes.add(inbox("a@x.test"))
    with uow() as work:
        assert work.inboxes.get("a@x.test") is None


def test_deleting_an_inbox_deletes_its_keys_and_pods_with_inboxes_refuse_delete(uow: SqlUnitOfWorkFactory) -> None:
    with uow(write=True) as work:
        work.inboxes.add(inbox("a@x.test", pod_id="pod_b"))
        work.api_keys.add(key("key_inbox", pod_id="pod_b", inbox_id="a@x.test"))
        work.api_keys.add(key("key_pod", pod_id="pod_b"))
        work.commit()
    with uow(write=True) as work:
        assert work.pods.has_inboxes("pod_b")
        with pytest.raises(Conflict) as refused:
            work.pods.delete("pod_b")
        assert refused.value.code == "cannot_delete"
    with uow(write=True) as work:
        work.inboxes.delete("a@x.test")
        work.commit()
    with uow(write=True) as work:
        assert work.api_keys.get("key_inbox") is None
        work.pods.delete("pod_b")
        work.commit()
    with uow() as work:
        assert work.api_keys.get("key_pod") is None
        assert work.pods.get("org_1", "pod_b") is None


def _walk(uow: SqlUnitOfWorkFactory, scope: InboxScope, ascending: bool, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        with uow() as work:
            rows = work.inboxes.list_page(scope, PageRequest(size, after, ascending))
        seen += [row.inbox_id for row in rows]
        if len(rows) < size:
            return seen
        after = (rows[-1].created_at.isoformat(), rows[-1].inbox_id)


@pytest.mark.parametrize("ascending", [False, True])
def test_keyset_pages_are_complete_and_ordered_even_with_equal_timestamps(
    uow: SqlUnitOfWorkFactory, ascending: bool
) -> None:
    addresses = []
    with uow(write=True) as work:
        for i in range(23):
            created = T0 + timedelta(microseconds=i // 3)  # groups of three share a timestamp
            address = f"u{i:02d}@x.test"
            addresses.append((created, address))
            work.inboxes.add(inbox(address, pod_id="pod_b" if i % 2 else "pod_default", created_at=created))
        work.commit()
    expected = [address for _, address in sorted(addresses, reverse=not ascending)]
    assert _walk(uow, InboxScope("org_1"), ascending, 4) == expected
    in_pod = [a for a in expected if int(a[1:3]) % 2]
    assert _walk(uow, InboxScope("org_1", pod_id="pod_b"), ascending, 5) == in_pod
    assert _walk(uow, InboxScope("org_1", inbox_id="u07@x.test"), ascending, 5) == ["u07@x.test"]
    assert _walk(uow, InboxScope("org_2"), ascending, 5) == []


def test_search_ranks_exact_address_then_prefix_then_word_matches(uow: SqlUnitOfWorkFactory) -> None:
    with uow(write=True) as work:
        work.inboxes.add(inbox("sales@x.test", created_at=T0))
        work.inboxes.add(inbox("sales-team@x.test", created_at=T0 + timedelta(seconds=1)))
        work.inboxes.add(inbox("eu.sales@x.test", created_at=T0 + timedelta(seconds=2)))
        work.inboxes.add(inbox("bob@x.test", display_name="Head of Sales", created_at=T0 + timedelta(seconds=3)))
        work.inboxes.add(inbox("wholesales@x.test", created_at=T0 + timedelta(seconds=4)))
        work.inboxes.add(inbox("under_score@x.test", display_name="100% real", created_at=T0))
        work.commit()
    with uow() as work:
        hits = work.inboxes.search_page(InboxScope("org_1"), ["sales@x.test"], PageRequest(10, None, False))
        assert [hit.inbox.inbox_id for hit in hits] == ["sales@x.test", "eu.sales@x.test"]
        hits = work.inboxes.search_page(InboxScope("org_1"), ["sales"], PageRequest(10, None, False))
        assert [hit.inbox.inbox_id for hit in hits] == [
            "sales-team@x.test",
            "sales@x.test",
            "bob@x.test",
            "eu.sales@x.test",
        ]
        second = work.inboxes.search_page(InboxScope("org_1"), ["sales"], PageRequest(10, hits[1].position, False))
        assert [hit.inbox.inbox_id for hit in second] == ["bob@x.test", "eu.sales@x.test"]
        assert (
            work.inboxes.search_page(InboxScope("org_1"), ["head", "sal"], PageRequest(10, None, False))[
                0
            ].inbox.inbox_id
            == "bob@x.test"
        )
        # LIKE wildcards in the query are literal characters
        assert (
            work.inboxes.search_page(InboxScope("org_1"), ["100%"], PageRequest(10, None, False))[0].inbox.inbox_id
            == "under_score@x.test"
        )
        assert work.inboxes.search_page(InboxScope("org_1"), ["_"], PageRequest(10, None, False)) == []


def test_api_keys_by_hash_touch_and_scoped_listing(uow: SqlUnitOfWorkFactory) -> None:
    with uow(write=True) as work:
        work.inboxes.add(inbox("a@x.test", pod_id="pod_b"))
        work.api_keys.add(key("key_org", permissions={"inbox_read": True}))
        work.api_keys.add(key("key_pod", pod_id="pod_b"))
        work.api_keys.add(key("key_inbox", pod_id="pod_b", inbox_id="a@x.test"))
        work.commit()
    used = T0 + timedelta(hours=1)
    with uow(write=True) as work:
        work.api_keys.touch("key_org", used)
        work.commit()
    with uow() as work:
        found = work.api_keys.get_by_hash("hash-key_org")
        assert found is not None
        assert found.used_at == used
        assert found.permissions == {"inbox_read": True}

        def ids(scope: KeyScope) -> set[str]:
            return {k.api_key_id for k in work.api_keys.list_page(scope, PageRequest(10, None, False))}

        assert ids(KeyScope("org_1")) == {"key_org", "key_pod", "key_inbox"}
        assert ids(KeyScope("org_1", pod_id="pod_b")) == {"key_pod", "key_inbox"}
        assert ids(KeyScope("org_1", pod_id="pod_b", exact_pod_scope=True)) == {"key_pod"}
        assert ids(KeyScope("org_1", inbox_id="a@x.test")) == {"key_inbox"}
