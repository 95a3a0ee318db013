"""Organizations, pods, API keys and the access rules between them: scopes, permissions, escalation."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

PERMISSIONS: tuple[str, ...] = (
    "inbox_read",
    "inbox_create",
    "inbox_update",
    "inbox_delete",
    "message_read",
    "message_reply",
    "message_send",
    "message_update",
    "message_delete",
    "agent_armor_release",
    "label_spam_read",
    "label_blocked_read",
    "label_unauthenticated_read",
    "label_trash_read",
    "draft_read",
    "draft_create",
    "draft_update",
    "draft_delete",
    "draft_send",
    "webhook_read",
    "webhook_create",
    "webhook_update",
    "webhook_delete",
    "domain_read",
    "domain_create",
    "domain_update",
    "domain_delete",
    "list_entry_read",
    "list_entry_create",
    "list_entry_delete",
    "metrics_read",
    "api_key_read",
    "api_key_create",
    "api_key_update",
    "api_key_delete",
    "app_connect",
    "app_share_owner",
    "account_update",
    "pod_read",
    "pod_create",
    "pod_update",
    "pod_delete",
    "calendar_read",
    "calendar_update",
    "calendar_event_read",
    "calendar_event_create",
    "calendar_event_update",
    "calendar_event_delete",
    "file_read",
    "file_create",
    "file_update",
    "file_delete",
)

# Granted only when listed explicitly, even to an unrestricted key (spec §2, ApiKeyPermissions).
OPT_IN_PERMISSIONS: frozenset[str] = frozenset({"agent_armor_release", "app_connect"})
DEFAULT_GRANTS: frozenset[str] = frozenset(PERMISSIONS) - OPT_IN_PERMISSIONS


class ScopeType(enum.StrEnum):
    ORGANIZATION = "organization"
    POD = "pod"
    INBOX = "inbox"


@dataclass
class Organization:
    organization_id: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Pod:
    pod_id: str
    organization_id: str
    name: str
    client_id: str | None
    is_default: bool
    created_at: datetime
    updated_at: datetime


@dataclass
class ApiKey:
    api_key_id: str
    organization_id: str
    pod_id: str | None
    inbox_id: str | None
    name: str
    prefix: str
    secret_hash: str
    permissions: dict[str, bool] | None
    expires_at: datetime | None
    used_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def scope_type(self) -> ScopeType:
        if self.inbox_id is not None:
            return ScopeType.INBOX
        if self.pod_id is not None:
            return ScopeType.POD
        return ScopeType.ORGANIZATION

    def granted(self) -> frozenset[str]:
        return granted_permissions(self.permissions)

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def granted_permissions(permissions: dict[str, bool] | None) -> frozenset[str]:
    """What a permissions object grants: absent = everything but the opt-ins; present = its ``true`` keys."""
    if permissions is None:
        return DEFAULT_GRANTS
    return frozenset(name for name, allowed in permissions.items() if allowed)


@dataclass(frozen=True)
class Principal:
    """The caller behind a request: its key, its scope and what it may do."""

    api_key_id: str
    organization_id: str
    pod_id: str | None
    inbox_id: str | None
    permissions: dict[str, bool] | None
    expires_at: datetime | None
    grants: frozenset[str] = field(default=frozenset())

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        return cls(
            api_key_id=key.api_key_id,
            organization_id=key.organization_id,
            pod_id=key.pod_id,
            inbox_id=key.inbox_id,
            permissions=key.permissions,
            expires_at=key.expires_at,
            grants=key.granted(),
        )

    @property
    def scope_type(self) -> ScopeType:
        if self.inbox_id is not None:
            return ScopeType.INBOX
        if self.pod_id is not None:
            return ScopeType.POD
        return ScopeType.ORGANIZATION

    @property
    def unrestricted(self) -> bool:
        return self.permissions is None

    def may(self, permission: str) -> bool:
        return permission in self.grants

    def sees_pod(self, pod_id: str) -> bool:
        """Pod routes are open to organization keys and to the key of that very pod."""
        return self.scope_type is ScopeType.ORGANIZATION or (self.scope_type is ScopeType.POD and self.pod_id == pod_id)

    def sees_inbox(self, inbox_pod_id: str, inbox_id: str) -> bool:
        if self.scope_type is ScopeType.ORGANIZATION:
            return True
        if self.scope_type is ScopeType.POD:
            return self.pod_id == inbox_pod_id
        return self.inbox_id == inbox_id

    def sees_key(self, key: ApiKey) -> bool:
        if key.organization_id != self.organization_id:
            return False
        if self.scope_type is ScopeType.ORGANIZATION:
            return True
        if self.scope_type is ScopeType.POD:
            return key.pod_id == self.pod_id
        return key.inbox_id == self.inbox_id


def unknown_permissions(permissions: dict[str, bool]) -> list[str]:
    known = set(PERMISSIONS)
    return sorted(name for name in permissions if name not in known)
