"""API keys at organization, pod and inbox scope: create (secret shown once), list, get, update, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from postroom.domain.access import (
    ApiKey,
    Principal,
    ScopeType,
    granted_permissions,
    unknown_permissions,
)
from postroom.domain.ids import new_id
from postroom.domain.pagination import PageTokens
from postroom.errors import FieldError, Forbidden, InvalidInput, NotFound
from postroom.services.access.authentication import DISPLAY_PREFIX_CHARS, generate_secret, hash_secret, require
from postroom.services.access.scopes import owned_scope, visible_inbox, visible_pod
from postroom.services.paging import ListParams, Page, paginate
from postroom.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

MAX_NAME_CHARS = 256


@dataclass(frozen=True)
class KeyRoute:
    """The route a key request came through: organization (no ids), a pod, or an inbox."""

    pod_id: str | None = None
    inbox_id: str | None = None


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str


def _check_name(name: str) -> str:
    if len(name) > MAX_NAME_CHARS or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(f"name must be at most {MAX_NAME_CHARS} printable characters", field="name")
    return name


def _check_permissions(principal: Principal, permissions: dict[str, bool] | None) -> None:
    """A key never grants more than its creator holds."""
    if permissions is None:
        if not principal.unrestricted:
            raise Forbidden(
                "Only an unrestricted key can create or make an unrestricted key",
                code="unrestricted_key_required",
                fix="Pass a permissions object, or use an unrestricted key.",
            )
        return
    unknown = unknown_permissions(permissions)
    if unknown:
        raise InvalidInput(
            "unknown permission(s): " + ", ".join(unknown),
            errors=[FieldError(f"permissions.{name}", "unknown permission") for name in unknown],
        )
    beyond = sorted(granted_permissions(permissions) - principal.grants)
    if beyond:
        raise Forbidden(
            "A key cannot grant permissions its creator lacks: " + ", ".join(beyond),
            code="permission_escalation",
        )


def _check_target_not_stronger(principal: Principal, key: ApiKey) -> None:
    if not key.granted() <= principal.grants or (principal.permissions is not None and key.permissions is None):
        raise Forbidden("A key cannot change or delete a more powerful key", code="permission_escalation")


class ApiKeyService:
    def __init__(self, uow_factory: UnitOfWorkFactory, tokens: PageTokens, clock: Clock) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._tokens = tokens

    def _resolve_target(self, uow: UnitOfWork, principal: Principal, route: KeyRoute) -> tuple[str | None, str | None]:
        if route.inbox_id is not None:
            inbox = visible_inbox(uow, principal, route.inbox_id)
            return inbox.pod_id, inbox.inbox_id
        if route.pod_id is not None:
            pod = visible_pod(uow, principal, route.pod_id)
            return pod.pod_id, None
        if principal.scope_type is not ScopeType.ORGANIZATION:
            raise Forbidden(
                "Only an organization key can create organization keys",
                fix="Create the key through the pod or inbox routes of your scope.",
            )
        return None, None

    def create(
        self,
        principal: Principal,
        route: KeyRoute,
        name: str | None,
        permissions: dict[str, bool] | None,
        expires_at: datetime | None,
    ) -> NewKey:
        require(principal, "api_key_create")
        now = self._clock.now()
        with self._uow(write=True) as uow:
            pod_id, inbox_id = self._resolve_target(uow, principal, route)
            _check_permissions(principal, permissions)
            if expires_at is not None and expires_at <= now:
                raise InvalidInput("expires_at must be in the future", field="expires_at")
            if principal.expires_at is not None:
                if expires_at is None:
                    expires_at = principal.expires_at
                elif expires_at > principal.expires_at:
                    raise Forbidden("A key cannot outlive the key that creates it", code="permission_escalation")
            secret = generate_secret()
            key = ApiKey(
                api_key_id=new_id("key"),
                organization_id=principal.organization_id,
                pod_id=pod_id,
                inbox_id=inbox_id,
                name=_check_name(name or ""),
                prefix=secret[:DISPLAY_PREFIX_CHARS],
                secret_hash=hash_secret(secret),
                permissions=permissions,
                expires_at=expires_at,
                used_at=None,
                created_at=now,
                updated_at=now,
            )
            uow.api_keys.add(key)
            uow.commit()
        return NewKey(key, secret)

    def list(self, principal: Principal, route: KeyRoute, params: ListParams) -> Page[ApiKey]:
        require(principal, "api_key_read")
        with self._uow() as uow:
            scope = owned_scope(uow, principal, route.pod_id, route.inbox_id)
            filters = f"{scope.pod_id}|{scope.inbox_id}|{scope.exact_pod_scope}|{params.ascending}"
            return paginate(
                self._tokens,
                "api_keys.list",
                filters,
                params,
                lambda page: uow.api_keys.list_page(scope, page),
                lambda key: (key.created_at.isoformat(), key.api_key_id),
            )

    def _find(self, uow: UnitOfWork, principal: Principal, route: KeyRoute, api_key_id: str) -> ApiKey:
        if route.inbox_id is not None:
            inbox = visible_inbox(uow, principal, route.inbox_id)
            route = KeyRoute(inbox_id=inbox.inbox_id)
        elif route.pod_id is not None:
            visible_pod(uow, principal, route.pod_id)
        key = uow.api_keys.get(api_key_id)
        if (
            key is None
            or not principal.sees_key(key)
            or (route.inbox_id is not None and key.inbox_id != route.inbox_id)
            or (route.pod_id is not None and (key.pod_id != route.pod_id or key.inbox_id is not None))
        ):
            raise NotFound("API key not found")
        return key

    def get(self, principal: Principal, api_key_id: str) -> ApiKey:
        require(principal, "api_key_read")
        with self._uow() as uow:
            return self._find(uow, principal, KeyRoute(), api_key_id)

    def update(
        self,
        principal: Principal,
        route: KeyRoute,
        api_key_id: str,
        name: str | None,
        permissions_given: bool,
        permissions: dict[str, bool] | None,
    ) -> ApiKey:
        require(principal, "api_key_update")
        if name is None and not permissions_given:
            raise InvalidInput("An update must include name or permissions", field="")
        with self._uow(write=True) as uow:
            key = self._find(uow, principal, route, api_key_id)
            _check_target_not_stronger(principal, key)
            if name is not None:
                key.name = _check_name(name)
            if permissions_given:
                _check_permissions(principal, permissions)
                key.permissions = permissions
            key.updated_at = self._clock.now()
            uow.api_keys.update(key)
            uow.commit()
            return key

    def delete(self, principal: Principal, route: KeyRoute, api_key_id: str) -> None:
        require(principal, "api_key_delete")
        with self._uow(write=True) as uow:
            key = self._find(uow, principal, route, api_key_id)
            _check_target_not_stronger(principal, key)
            uow.api_keys.delete(key.api_key_id)
            uow.commit()
