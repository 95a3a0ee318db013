"""The inbox entity and its rules: usernames, addresses, status and metadata (limits and merge on update)."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import datetime

from postroom.errors import FieldError, InvalidInput

MetadataValue = str | int | float | bool
Metadata = dict[str, MetadataValue]

MAX_METADATA_KEYS = 256
MAX_METADATA_CHARS = 256
MAX_DISPLAY_NAME_CHARS = 256
MAX_CLIENT_ID_CHARS = 256

_USERNAME = re.compile(r"^[a-z0-9._-]{1,64}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


class InboxStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


@dataclass
class Inbox:
    inbox_id: str
    organization_id: str
    pod_id: str
    username: str
    domain: str
    display_name: str | None
    client_id: str | None
    status: InboxStatus
    metadata: Metadata | None
    created_at: datetime
    updated_at: datetime

    @property
    def email(self) -> str:
        return self.inbox_id


def normalize_username(raw: str) -> str:
    username = raw.lower()
    # No trimming, and ASCII only: "\u212a".lower() is a plain "k" (a Kelvin sign would pass as a letter).
    valid = raw.isascii() and _USERNAME.fullmatch(username) is not None
    if not valid or username.startswith(".") or username.endswith(".") or ".." in username:
        raise InvalidInput(
            "username must be 1-64 characters of a-z, 0-9, '.', '_' or '-', with no leading, trailing or doubled dot",
            field="username",
        )
    return username


def normalize_domain(raw: str) -> str:
    domain = raw.lower().removesuffix(".")
    if not raw.isascii() or _DOMAIN.fullmatch(domain) is None:
        raise InvalidInput("domain is not a valid domain name", field="domain")
    return domain


def check_display_name(value: str) -> str:
    if len(value) > MAX_DISPLAY_NAME_CHARS or any(ch in value for ch in "\r\n\0"):
        raise InvalidInput(
            f"display_name must be at most {MAX_DISPLAY_NAME_CHARS} characters with no line breaks",
            field="display_name",
        )
    return value


def check_client_id(value: str) -> str:
    if not value or len(value) > MAX_CLIENT_ID_CHARS or "@" in value or any(ord(ch) < 32 for ch in value):
        raise InvalidInput(
            f"client_id must be 1-{MAX_CLIENT_ID_CHARS} printable characters and must not contain '@'",
            field="client_id",
        )
    return value


def _check_entry(key: object, value: object, errors: list[FieldError], *, allow_null: bool) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_METADATA_CHARS:
        errors.append(FieldError("metadata", f"keys must be 1-{MAX_METADATA_CHARS} characters"))
        return
    path = f"metadata.{key}"
    if value is None:
        if not allow_null:
            errors.append(FieldError(path, "values must be a string, number or boolean"))
    elif isinstance(value, str):
        if len(value) > MAX_METADATA_CHARS:
            errors.append(FieldError(path, f"string values must be at most {MAX_METADATA_CHARS} characters"))
    elif isinstance(value, bool | int):
        pass
    elif isinstance(value, float):
        if not math.isfinite(value):
            errors.append(FieldError(path, "numbers must be finite"))
    else:
        errors.append(FieldError(path, "values must be a string, number or boolean"))


def _check_shape(metadata: dict[str, object], *, allow_null: bool) -> None:
    errors: list[FieldError] = []
    if not metadata:
        errors.append(FieldError("metadata", "metadata must not be empty; send null to clear it"))
    for key, value in metadata.items():
        _check_entry(key, value, errors, allow_null=allow_null)
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)


def _check_count(metadata: Metadata) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidInput(f"metadata holds at most {MAX_METADATA_KEYS} keys", field="metadata")


def validate_new_metadata(metadata: dict[str, object]) -> Metadata:
    _check_shape(metadata, allow_null=False)
    result: Metadata = {key: value for key, value in metadata.items() if isinstance(value, MetadataValue)}
    _check_count(result)
    return result


def merge_metadata(current: Metadata | None, patch: dict[str, object]) -> Metadata | None:
    """Apply an update: listed keys are set, ``null`` values remove keys, unlisted keys stay."""
    _check_shape(patch, allow_null=True)
    merged: Metadata = dict(current or {})
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, MetadataValue):
            merged[key] = value
    _check_count(merged)
    return merged or None
