"""Repositories over one SQLAlchemy connection: rows in, domain entities out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from postroom.domain.access import ApiKey, Organization, Pod
from postroom.domain.inbox import Inbox, InboxStatus
from postroom.domain.listing import InboxScope, KeyScope, SearchHit
from postroom.domain.pagination import PageRequest
from postroom.domain.text import storable
from postroom.errors import Conflict
from postroom.storage.conditions import escape_like, in_scope
from postroom.storage.keyset import seek
from postroom.storage.tables import api_keys, drafts, inboxes, messages, organizations, pods, server_secrets

# A flag in ``Connection.info``: this transaction changed or removed API keys (the unit of work reports its commit).
KEYS_CHANGED = "postroom_keys_changed"


def write_checked(
    connection: Connection,
    statement: Executable,
    parameters: dict[str, Any] | None = None,
    conflict_code: str = "already_exists",
) -> None:
    """Run a write; a broken uniqueness or reference rule becomes a Conflict the services understand.

    Values go in as ``parameters`` of a constant statement, so SQLAlchemy's compiled-statement cache is hit instead of
    building a new statement (and cache key) for every row.
    """
    try:
        connection.execute(statement, parameters)
    except IntegrityError as error:
        raise Conflict("The change conflicts with existing data", code=conflict_code) from error


class SqlSecretRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, name: str) -> bytes | None:
        value = self._c.execute(select(server_secrets.c.value).where(server_secrets.c.name == name)).scalar()
        return bytes(value) if value is not None else None

    def add(self, name: str, value: bytes) -> None:
        write_checked(self._c, insert(server_secrets), {"name": name, "value": value})


class SqlOrganizationRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    @staticmethod
    def _entity(row: RowMapping) -> Organization:
        return Organization(row["organization_id"], row["created_at"], row["updated_at"])

    def first(self) -> Organization | None:
        row = self._c.execute(select(organizations).order_by(organizations.c.created_at).limit(1)).mappings().first()
        return self._entity(row) if row else None

    def get(self, organization_id: str) -> Organization | None:
        query = select(organizations).where(organizations.c.organization_id == organization_id)
        row = self._c.execute(query).mappings().first()
        return self._entity(row) if row else None

    def add(self, organization: Organization) -> None:
        write_checked(self._c, insert(organizations), vars(organization))


class SqlPodRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    @staticmethod
    def _entity(row: RowMapping) -> Pod:
        return Pod(**dict(row))

    def _one(self, *conditions: ColumnElement[bool]) -> Pod | None:
        row = self._c.execute(select(pods).where(*conditions)).mappings().first()
        return self._entity(row) if row else None

    def get(self, organization_id: str, pod_id: str) -> Pod | None:
        if not storable(pod_id):
            return None
        return self._one(pods.c.organization_id == organization_id, pods.c.pod_id == pod_id)

    def get_by_client_id(self, organization_id: str, client_id: str) -> Pod | None:
        return self._one(pods.c.organization_id == organization_id, pods.c.client_id == client_id)

    def default_pod(self, organization_id: str) -> Pod:
        pod = self._one(pods.c.organization_id == organization_id, pods.c.is_default.is_(True))
        if pod is None:
            raise LookupError(f"organization {organization_id} has no default pod")
        return pod

    def add(self, pod: Pod) -> None:
        write_checked(self._c, insert(pods), vars(pod))

    def delete(self, pod_id: str) -> None:
        write_checked(self._c, delete(pods).where(pods.c.pod_id == pod_id), conflict_code="cannot_delete")
        self._c.info[KEYS_CHANGED] = True  # its keys went with it

    def has_inboxes(self, pod_id: str) -> bool:
        return (
            self._c.execute(select(inboxes.c.inbox_id).where(inboxes.c.pod_id == pod_id).limit(1)).first() is not None
        )

    def list_page(self, organization_id: str, only_pod_id: str | None, page: PageRequest) -> list[Pod]:
        query = select(pods).where(pods.c.organization_id == organization_id)
        if only_pod_id is not None:
            query = query.where(pods.c.pod_id == only_pod_id)
        query = seek(query, page, pods.c.created_at, pods.c.pod_id)
        return [self._entity(row) for row in self._c.execute(query).mappings()]


# Built once: reused with a bound value, it skips rebuilding the statement and its cache key on every read.
_INBOX_BY_ID = select(inboxes).where(inboxes.c.inbox_id == bindparam("inbox_id"))


class SqlInboxRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    @staticmethod
    def _entity(row: RowMapping) -> Inbox:
        values = dict(row)
        values["status"] = InboxStatus(values["status"])
        return Inbox(**values)

    @staticmethod
    def _row(inbox: Inbox) -> dict[str, object]:
        values = vars(inbox).copy()
        values["status"] = inbox.status.value
        return values

    def get(self, inbox_id: str) -> Inbox | None:
        if not storable(inbox_id):
            return None
        row = self._c.execute(_INBOX_BY_ID, {"inbox_id": inbox_id}).mappings().first()
        return self._entity(row) if row else None

    def get_by_client_id(self, organization_id: str, client_id: str) -> Inbox | None:
        query = select(inboxes).where(inboxes.c.organization_id == organization_id, inboxes.c.client_id == client_id)
        row = self._c.execute(query).mappings().first()
        return self._entity(row) if row else None

    def add(self, inbox: Inbox) -> None:
        write_checked(self._c, insert(inboxes), self._row(inbox))

    def update(self, inbox: Inbox) -> None:
        self._c.execute(update(inboxes).where(inboxes.c.inbox_id == inbox.inbox_id).values(**self._row(inbox)))

    def delete(self, inbox_id: str) -> None:
        self._c.execute(delete(inboxes).where(inboxes.c.inbox_id == inbox_id))
        self._c.info[KEYS_CHANGED] = True  # its keys went with it

    def blob_owners(self, inbox_id: str) -> list[str]:
        # The inbox row is locked first: a message or draft added meanwhile waits for this transaction (and then
        # finds no inbox), so the list is complete when the inbox is deleted in the same transaction.
        self._c.execute(select(inboxes.c.inbox_id).where(inboxes.c.inbox_id == inbox_id).with_for_update())
        rows = select(messages.c.row_id).where(messages.c.inbox_id == inbox_id)
        owned = select(drafts.c.draft_id).where(drafts.c.inbox_id == inbox_id)
        return list(self._c.execute(rows.union_all(owned)).scalars())

    def count(self, scope: InboxScope) -> int:
        query = select(func.count()).select_from(inboxes).where(*in_scope(inboxes, scope))
        return int(self._c.execute(query).scalar_one())

    def list_page(self, scope: InboxScope, page: PageRequest) -> list[Inbox]:
        query = seek(select(inboxes).where(*in_scope(inboxes, scope)), page, inboxes.c.created_at, inboxes.c.inbox_id)
        return [self._entity(row) for row in self._c.execute(query).mappings()]

    def search_page(self, scope: InboxScope, terms: list[str], page: PageRequest) -> list[SearchHit]:
        """Every term must start a word of the address or display name; rank 0 exact, 1 address prefix, 2 rest."""
        if not all(storable(term) for term in terms):
            return []
        address = inboxes.c.inbox_id
        name = func.lower(func.coalesce(inboxes.c.display_name, ""))
        matches = []
        for term in terms:
            like = escape_like(term)
            word_starts = [address.like(f"{like}%", escape="\\"), name.like(f"{like}%", escape="\\")]
            word_starts += [address.like(f"%{escape_like(sep)}{like}%", escape="\\") for sep in ".-_+@"]
            word_starts.append(name.like(f"% {like}%", escape="\\"))
            matches.append(or_(*word_starts))
        phrase = " ".join(terms)
        rank = case(
            (address == phrase, 0),
            (address.like(f"{escape_like(phrase)}%", escape="\\"), 1),
            else_=2,
        ).label("rank")
        query = select(inboxes, rank).where(*in_scope(inboxes, scope), *matches)
        if page.after is not None:
            after_rank, after_at, after_id = (
                int(page.after[0]),
                datetime.fromisoformat(str(page.after[1])),
                str(page.after[2]),
            )
            query = query.where(
                or_(
                    rank > after_rank,
                    and_(rank == after_rank, inboxes.c.created_at < after_at),
                    and_(rank == after_rank, inboxes.c.created_at == after_at, address < after_id),
                )
            )
        query = query.order_by(rank.asc(), inboxes.c.created_at.desc(), address.desc()).limit(page.limit)
        hits = []
        for row in self._c.execute(query).mappings():
            values = {column.name: row[column.name] for column in inboxes.c}
            inbox = self._entity(values)  # type: ignore[arg-type]
            hits.append(SearchHit(inbox, (int(row["rank"]), inbox.created_at.isoformat(), inbox.inbox_id)))
        return hits


class SqlApiKeyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    @staticmethod
    def _entity(row: RowMapping) -> ApiKey:
        return ApiKey(**dict(row))

    def _one(self, condition: ColumnElement[bool]) -> ApiKey | None:
        row = self._c.execute(select(api_keys).where(condition)).mappings().first()
        return self._entity(row) if row else None

    def get(self, api_key_id: str) -> ApiKey | None:
        if not storable(api_key_id):
            return None
        return self._one(api_keys.c.api_key_id == api_key_id)

    def get_by_hash(self, secret_hash: str) -> ApiKey | None:
        return self._one(api_keys.c.secret_hash == secret_hash)

    def add(self, key: ApiKey) -> None:
        write_checked(self._c, insert(api_keys), vars(key))

    def update(self, key: ApiKey) -> None:
        values = {"name": key.name, "permissions": key.permissions, "updated_at": key.updated_at}
        self._c.execute(update(api_keys).where(api_keys.c.api_key_id == key.api_key_id).values(**values))
        self._c.info[KEYS_CHANGED] = True

    def touch(self, api_key_id: str, used_at: datetime) -> None:
        self._c.execute(update(api_keys).where(api_keys.c.api_key_id == api_key_id).values(used_at=used_at))

    def delete(self, api_key_id: str) -> None:
        self._c.execute(delete(api_keys).where(api_keys.c.api_key_id == api_key_id))
        self._c.info[KEYS_CHANGED] = True

    def list_page(self, scope: KeyScope, page: PageRequest) -> list[ApiKey]:
        query = select(api_keys).where(api_keys.c.organization_id == scope.organization_id)
        if scope.inbox_id is not None:
            query = query.where(api_keys.c.inbox_id == scope.inbox_id)
        elif scope.pod_id is not None:
            query = query.where(api_keys.c.pod_id == scope.pod_id)
            if scope.exact_pod_scope:
                query = query.where(api_keys.c.inbox_id.is_(None))
        query = seek(query, page, api_keys.c.created_at, api_keys.c.api_key_id)
        return [self._entity(row) for row in self._c.execute(query).mappings()]
