"""Who is calling: bootstrapping the first organization, authenticating API keys, identity and organization."""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from postroom.domain.access import ApiKey, Organization, Pod, Principal, ScopeType
from postroom.domain.custom_domains import DomainScope
from postroom.domain.ids import new_id
from postroom.domain.listing import InboxScope
from postroom.errors import Conflict, Forbidden, Unauthorized
from postroom.services.metrics import usage
from postroom.services.ports import Clock, UnitOfWorkFactory

KEY_PREFIX = "pr_"
KEY_BODY_CHARS = 40
DISPLAY_PREFIX_CHARS = 12
_BASE62 = string.ascii_letters + string.digits
PAGE_TOKEN_SECRET_NAME = "page_tokens"  # noqa: S105 - the name of a stored secret, not a secret
DOWNLOAD_SECRET_NAME = "downloads"  # noqa: S105 - the name of a stored secret, not a secret
RETURN_PATH_SECRET_NAME = "return_paths"  # noqa: S105 - the name of a stored secret, not a secret
# A key's used_at is written at most this often, so authentication stays a read on the hot path.
USED_AT_RESOLUTION = timedelta(seconds=60)
KEY_CACHE_ENTRIES = 10_000  # keys remembered per process; the cache starts over when full


@dataclass(frozen=True)
class _Cached:
    key: ApiKey
    fetched_at: datetime
    key_changes: int  # the factory's count of key-changing commits when the key was read


def generate_secret() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_BASE62) for _ in range(KEY_BODY_CHARS))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Bootstrap:
    organization_id: str
    api_key: str | None


@dataclass(frozen=True)
class Identity:
    scope_type: ScopeType
    scope_id: str
    organization_id: str
    pod_id: str | None
    inbox_id: str | None
    api_key_id: str


@dataclass(frozen=True)
class OrganizationView:
    organization: Organization
    inbox_count: int
    domain_count: int


def require(principal: Principal, permission: str) -> None:
    if not principal.may(permission):
        raise Forbidden("Forbidden", code="missing_permission", fix=f"Use an API key with the {permission} permission.")


class AccessService:
    """``key_cache_seconds``: how long a key read from the database answers for it in this process (0: never).

    A commit here that changes or removes keys empties the cache at once; other processes notice within that time.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, key_cache_seconds: float = 0.0) -> None:
        self._clock = clock
        self._uow = uow_factory
        self._cache_for = timedelta(seconds=key_cache_seconds)
        self._cache: dict[str, _Cached] = {}
        self._cache_lock = threading.Lock()

    def bootstrap(self) -> Bootstrap:
        """Create the organization, its default pod, an unrestricted key and server secrets, once ever."""
        with self._uow(write=True) as uow:
            existing = uow.organizations.first()
            if existing is not None:
                return Bootstrap(existing.organization_id, None)
            now = self._clock.now()
            organization = Organization(new_id("org"), now, now)
            pod = Pod(new_id("pod"), organization.organization_id, "Default Pod", None, True, now, now)
            secret = generate_secret()
            key = ApiKey(
                api_key_id=new_id("key"),
                organization_id=organization.organization_id,
                pod_id=None,
                inbox_id=None,
                name="bootstrap",
                prefix=secret[:DISPLAY_PREFIX_CHARS],
                secret_hash=hash_secret(secret),
                permissions=None,
                expires_at=None,
                used_at=None,
                created_at=now,
                updated_at=now,
            )
            try:
                uow.secrets.add(PAGE_TOKEN_SECRET_NAME, secrets.token_bytes(32))
                uow.organizations.add(organization)
                uow.pods.add(pod)
                usage.pod_counted(uow, pod, 1, pod.created_at)
                uow.api_keys.add(key)
                uow.commit()
            except Conflict:
                pass  # another process bootstrapped first; fall through to its organization
            else:
                return Bootstrap(organization.organization_id, secret)
        with self._uow() as uow:
            winner = uow.organizations.first()
            assert winner is not None
            return Bootstrap(winner.organization_id, None)

    def server_secret(self, name: str, make: Callable[[], bytes] = lambda: secrets.token_bytes(32)) -> bytes:
        """A server secret by name (random 256 bits unless ``make`` says otherwise), made on first use and shared
        by every process: a second process that races the first keeps the first one's value."""
        with self._uow() as uow:
            value = uow.secrets.get(name)
        if value is not None:
            return value
        try:
            with self._uow(write=True) as uow:
                uow.secrets.add(name, make())
                uow.commit()
        except Conflict:
            pass  # another process created it first
        with self._uow() as uow:
            value = uow.secrets.get(name)
        assert value is not None
        return value

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthorized(
                "Missing Authorization header",
                code="missing_authorization",
                fix="Send 'Authorization: Bearer <api key>'.",
            )
        scheme, _, secret = authorization.partition(" ")
        if scheme != "Bearer":
            raise Unauthorized(
                "Authorization must use the Bearer scheme",
                code="invalid_token_type",
                fix="Send 'Authorization: Bearer <api key>'.",
            )
        secret = secret.strip()
        if not secret:
            raise Unauthorized("Missing API key", code="missing_authorization")
        now = self._clock.now()
        secret_hash = hash_secret(secret)
        key = self._key(secret_hash, now)
        if key is None:
            raise Unauthorized("Unknown API key", code="unknown_api_key")
        if key.is_expired(now):
            raise Unauthorized("API key has expired", code="unauthorized")
        if _touch_due(key, now):
            with self._uow(write=True) as uow:
                uow.api_keys.touch(key.api_key_id, now)
                uow.commit()
            self._remember(secret_hash, replace(key, used_at=now), now, None)
        return Principal.of(key)

    def cached_principal(self, authorization: str | None) -> Principal | None:
        """The principal ``authenticate`` would return, when this process can tell without the database: a
        well-formed Bearer key fresh in the cache, unexpired, whose ``used_at`` needs no write. Otherwise None, and
        ``authenticate`` answers (it raises for what is refused)."""
        scheme, _, secret = (authorization or "").partition(" ")
        secret = secret.strip()
        if scheme != "Bearer" or not secret:
            return None
        now = self._clock.now()
        key = self._fresh(hash_secret(secret), now, self._uow.key_changes())
        if key is None or key.is_expired(now) or _touch_due(key, now):
            return None
        return Principal.of(key)

    def _fresh(self, secret_hash: str, now: datetime, changes: int) -> ApiKey | None:
        """The cached key with this hash while fresh and no key changed in this process since it was read."""
        cached = self._cache.get(secret_hash)
        if cached is not None and cached.key_changes == changes and now - cached.fetched_at < self._cache_for:
            return cached.key
        return None

    def _key(self, secret_hash: str, now: datetime) -> ApiKey | None:
        """The key with this hash: from the cache while fresh and no key changed here since, else the database."""
        changes = self._uow.key_changes()
        cached = self._fresh(secret_hash, now, changes)
        if cached is not None:
            return cached
        with self._uow() as uow:
            key = uow.api_keys.get_by_hash(secret_hash)
        if key is not None:
            self._remember(secret_hash, key, now, changes)
        return key

    def _remember(self, secret_hash: str, key: ApiKey, now: datetime, changes: int | None) -> None:
        """Cache ``key`` as read at ``now`` when ``key_changes`` was ``changes`` (None: keep the entry's time)."""
        if self._cache_for <= timedelta(0):
            return
        with self._cache_lock:
            cached = self._cache.get(secret_hash)
            if changes is None:
                if cached is None:
                    return
                self._cache[secret_hash] = replace(cached, key=key)
                return
            if len(self._cache) >= KEY_CACHE_ENTRIES:
                self._cache.clear()
            self._cache[secret_hash] = _Cached(key, now, changes)

    def identity(self, principal: Principal) -> Identity:
        scope_id = principal.inbox_id or principal.pod_id or principal.organization_id
        return Identity(
            scope_type=principal.scope_type,
            scope_id=scope_id,
            organization_id=principal.organization_id,
            pod_id=principal.pod_id,
            inbox_id=principal.inbox_id,
            api_key_id=principal.api_key_id,
        )

    def organization(self, principal: Principal) -> OrganizationView:
        """The caller's organization; the counts cover only what the key itself can see (domains: the default
        domain and the custom domains listed for it; none for an inbox key)."""
        with self._uow() as uow:
            organization = uow.organizations.get(principal.organization_id)
            assert organization is not None
            scope = InboxScope(principal.organization_id, principal.pod_id, principal.inbox_id)
            inbox_count = uow.inboxes.count(scope)
            domain_count = 0
            if principal.scope_type is not ScopeType.INBOX:
                domain_count = 1 + uow.custom_domains.count(DomainScope(principal.organization_id, principal.pod_id))
        return OrganizationView(organization, inbox_count, domain_count)


def _touch_due(key: ApiKey, now: datetime) -> bool:
    """Whether authenticating with ``key`` now must write its ``used_at`` (kept to USED_AT_RESOLUTION)."""
    return key.used_at is None or now - key.used_at >= USED_AT_RESOLUTION
