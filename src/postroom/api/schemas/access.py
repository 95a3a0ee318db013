"""Wire shapes of this API's requests and responses (spec §2), snake_case as the SDKs send and expect."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, StrictBool, StrictStr, field_validator

from postroom.domain.access import ApiKey, Pod
from postroom.domain.inbox import Inbox
from postroom.domain.instants import as_utc
from postroom.domain.text import storable
from postroom.services.access.authentication import Identity, OrganizationView
from postroom.wire.base import Response


def _unstorable_path(value: object, path: str = "") -> str | None:
    if isinstance(value, str):
        return None if storable(value) else path
    if isinstance(value, dict):
        items: list[tuple[str, object]] = [(str(key), key) for key in value] + [
            (str(key), item) for key, item in value.items()
        ]
    elif isinstance(value, list):
        items = [(str(index), item) for index, item in enumerate(value)]
    else:
        return None
    for name, item in items:
        found = _unstorable_path(item, f"{path}.{name}" if path else name)
        if found is not None:
            return found
    return None


class RequestBody(BaseModel):
    """Request bodies reject unknown fields, values of the wrong JSON type, and text no database can store."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        where = _unstorable_path(value)
        if where is not None:
            inside = f" (at {where})" if where else ""
            raise ValueError(f"text must not contain a NUL character or an unpaired surrogate{inside}")
        return value


class CreateInboxBody(RequestBody):
    username: StrictStr | None = None
    domain: StrictStr | None = None
    display_name: StrictStr | None = None
    client_id: StrictStr | None = None
    status: Literal["active", "paused"] | None = None
    metadata: dict[str, Any] | None = None


class UpdateInboxBody(RequestBody):
    display_name: StrictStr | None = None
    status: Literal["active", "paused"] | None = None
    metadata: dict[str, Any] | None = None


class CreatePodBody(RequestBody):
    name: StrictStr | None = None
    client_id: StrictStr | None = None


class CreateApiKeyBody(RequestBody):
    name: StrictStr | None = None
    permissions: dict[str, StrictBool] | None = None
    expires_at: datetime | None = None

    @field_validator("expires_at", mode="before")
    @classmethod
    def _parse_datetime(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError as error:
                raise ValueError("expires_at must be an ISO-8601 datetime") from error
            return as_utc(parsed)
        return value


class UpdateApiKeyBody(RequestBody):
    name: StrictStr | None = None
    permissions: dict[str, StrictBool] | None = None


class InboxOut(Response):
    pod_id: str
    inbox_id: str
    email: str
    display_name: str | None = None
    client_id: str | None = None
    status: Literal["paused"] | None = None
    metadata: dict[str, str | int | float | bool] | None = None
    updated_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def of(cls, inbox: Inbox) -> InboxOut:
        return cls(
            pod_id=inbox.pod_id,
            inbox_id=inbox.inbox_id,
            email=inbox.email,
            display_name=inbox.display_name,
            client_id=inbox.client_id,
            status="paused" if inbox.status == "paused" else None,
            metadata=inbox.metadata,
            updated_at=inbox.updated_at,
            created_at=inbox.created_at,
        )


class PageOut(Response):
    count: int
    limit: int | None = None
    next_page_token: str | None = None


class ListInboxesOut(PageOut):
    inboxes: list[InboxOut]


class PodOut(Response):
    pod_id: str
    name: str
    client_id: str | None = None
    updated_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def of(cls, pod: Pod) -> PodOut:
        return cls(
            pod_id=pod.pod_id,
            name=pod.name,
            client_id=pod.client_id,
            updated_at=pod.updated_at,
            created_at=pod.created_at,
        )


class ListPodsOut(PageOut):
    pods: list[PodOut]


class ApiKeyOut(Response):
    type: Literal["bearer"] = "bearer"
    api_key_id: str
    prefix: str
    name: str
    pod_id: str | None = None
    inbox_id: str | None = None
    used_at: AwareDatetime | None = None
    permissions: dict[str, bool] | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    expires_at: AwareDatetime | None = None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            api_key_id=key.api_key_id,
            prefix=key.prefix,
            name=key.name,
            pod_id=key.pod_id,
            inbox_id=key.inbox_id,
            used_at=key.used_at,
            permissions=key.permissions,
            created_at=key.created_at,
            updated_at=key.updated_at,
            expires_at=key.expires_at,
        )


class CreatedApiKeyOut(Response):
    api_key_id: str
    api_key: str
    prefix: str
    name: str
    pod_id: str | None = None
    inbox_id: str | None = None
    permissions: dict[str, bool] | None = None
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None


class ListApiKeysOut(Response):
    count: int
    next_page_token: str | None = None
    api_keys: list[ApiKeyOut]


class OrganizationOut(Response):
    organization_id: str
    inbox_count: int
    domain_count: int
    updated_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def of(cls, view: OrganizationView) -> OrganizationOut:
        return cls(
            organization_id=view.organization.organization_id,
            inbox_count=view.inbox_count,
            domain_count=view.domain_count,
            updated_at=view.organization.updated_at,
            created_at=view.organization.created_at,
        )


class IdentityOut(Response):
    scope_type: Literal["organization", "pod", "inbox"]
    scope_id: str
    organization_id: str
    pod_id: str | None = None
    inbox_id: str | None = None
    api_key_id: str | None = None

    @classmethod
    def of(cls, identity: Identity) -> IdentityOut:
        return cls(
            scope_type=identity.scope_type.value,
            scope_id=identity.scope_id,
            organization_id=identity.organization_id,
            pod_id=identity.pod_id,
            inbox_id=identity.inbox_id,
            api_key_id=identity.api_key_id,
        )
