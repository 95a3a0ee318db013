"""Pure domain rules: ids, usernames, metadata limits and merge, permissions and scope visibility."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postroom.domain.access import DEFAULT_GRANTS, OPT_IN_PERMISSIONS, ApiKey, Principal, granted_permissions
from postroom.domain.ids import id_at, new_id
from postroom.domain.inbox import merge_metadata, normalize_domain, normalize_username, validate_new_metadata
from postroom.domain.names import generate_username
from postroom.errors import InvalidInput

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_ids_are_prefixed_unique_and_time_sortable() -> None:
    ids = [new_id("thd") for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(i.startswith("thd_") and len(i) == 30 for i in ids)
    earlier, later = id_at("x", 1_700_000_000_000), id_at("x", 1_700_000_000_001)
    assert later > earlier
    assert new_id("x") > id_at("x", 1_700_000_000_000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Support-Agent", "support-agent"), ("a", "a"), ("a.b_c-d9", "a.b_c-d9"), ("x" * 64, "x" * 64)],
)
def test_valid_usernames_are_lower_cased(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", " ", "a b", "a@b", "a+b", ".a", "a.", "a..b", "x" * 65, "../etc", "ünï", "a\r\nb", "a/b", "a%b"]
)
def test_hostile_usernames_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_username(raw)
    assert caught.value.errors[0].path == "username"


def test_generated_usernames_are_valid_and_readable() -> None:
    names = {generate_username() for _ in range(100)}
    assert len(names) > 90
    for name in names:
        assert normalize_username(name) == name
        adjective, animal, number = name.split("-")
        assert adjective.isalpha()
        assert animal.isalpha()
        assert number.isdigit()


def test_domains_are_normalized_and_checked() -> None:
    assert normalize_domain("Example.COM.") == "example.com"
    for bad in ["", "exa mple.com", "-x.com", "x..com", "a" * 64 + ".com"]:
        with pytest.raises(InvalidInput):
            normalize_domain(bad)


def test_metadata_accepts_strings_numbers_and_booleans() -> None:
    value = {"tenant_id": "acme", "seat_count": 5, "monthly_spend": 19.99, "active": True}
    assert validate_new_metadata(dict(value)) == value


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"k": None},
        {"k": {"nested": 1}},
        {"k": [1]},
        {"": "empty key"},
        {"k" * 257: "v"},
        {"k": "v" * 257},
        {"k": float("nan")},
        {f"k{i}": i for i in range(257)},
    ],
)
def test_metadata_limits(metadata: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        validate_new_metadata(metadata)


def test_metadata_boundaries_are_inclusive() -> None:
    at_limit: dict[str, object] = {f"{i:0256d}": "v" * 256 for i in range(256)}
    assert len(validate_new_metadata(at_limit)) == 256


def test_metadata_merge_sets_removes_and_keeps() -> None:
    current = {"tenant_id": "acme", "tier": "free"}
    assert merge_metadata(current, {"tier": "enterprise"}) == {"tenant_id": "acme", "tier": "enterprise"}
    assert merge_metadata(current, {"tier": None}) == {"tenant_id": "acme"}
    assert merge_metadata({"tier": "x"}, {"tier": None}) is None
    assert merge_metadata(current, {"missing": None}) == current
    with pytest.raises(InvalidInput):
        merge_metadata(current, {})
    full = {f"k{i}": i for i in range(256)}
    with pytest.raises(InvalidInput):
        merge_metadata(dict(full), {"one_more": 1})
    assert merge_metadata(dict(full), {"k0": None, "one_more": 1}) is not None


def _key(**overrides: object) -> ApiKey:
    values: dict[str, object] = {
        "api_key_id": "key_1",
        "organization_id": "org_1",
        "pod_id": None,
        "inbox_id": None,
        "name": "",
        "prefix": "pr_",
        "secret_hash": "h",
        "permissions": None,
        "expires_at": None,
        "used_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return ApiKey(**values)  # type: ignore[arg-type]


def test_unrestricted_keys_lack_only_the_opt_in_permissions() -> None:
    assert granted_permissions(None) == DEFAULT_GRANTS
    assert not OPT_IN_PERMISSIONS & DEFAULT_GRANTS
    assert granted_permissions({"inbox_read": True, "inbox_delete": False}) == {"inbox_read"}


def test_scope_visibility() -> None:
    org = Principal.of(_key())
    pod = Principal.of(_key(pod_id="pod_a"))
    inbox = Principal.of(_key(pod_id="pod_a", inbox_id="a@x"))
    assert org.sees_pod("pod_b")
    assert org.sees_inbox("pod_b", "b@x")
    assert pod.sees_pod("pod_a")
    assert not pod.sees_pod("pod_b")
    assert pod.sees_inbox("pod_a", "a2@x")
    assert not pod.sees_inbox("pod_b", "b@x")
    assert not inbox.sees_pod("pod_a")
    assert inbox.sees_inbox("pod_a", "a@x")
    assert not inbox.sees_inbox("pod_a", "a2@x")
    assert not org.sees_key(_key(organization_id="org_2"))
    assert pod.sees_key(_key(pod_id="pod_a", inbox_id="a@x"))
    assert not pod.sees_key(_key())
    assert inbox.sees_key(_key(pod_id="pod_a", inbox_id="a@x"))
    assert not inbox.sees_key(_key(pod_id="pod_a"))


def test_key_expiry() -> None:
    assert _key(expires_at=NOW).is_expired(NOW)
    assert not _key(expires_at=None).is_expired(NOW)
