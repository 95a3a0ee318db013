"""Custom domain storage: the rows, their last-checked records (JSON), listings by scope and the checker's lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, delete, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from postroom.domain.custom_domains import CustomDomain, DomainScope, DomainStatus, ancestors
from postroom.domain.domain_records import CheckedRecord, DnsRecord, Purpose, RecordStatus, RecordType
from postroom.domain.pagination import PageRequest
from postroom.domain.text import storable
from postroom.storage.conditions import escape_like
from postroom.storage.keyset import seek
from postroom.storage.repositories import write_checked
from postroom.storage.tables import custom_domains

_COLUMNS = [column.name for column in custom_domains.c]


def _record_json(checked: CheckedRecord) -> dict[str, object]:
    record = checked.record
    return {
        "purpose": record.purpose.value,
        "type": record.type.value,
        "name": record.name,
        "value": record.value,
        "priority": record.priority,
        "status": checked.status.value,
        "reason": checked.reason,
    }


def _record(item: dict[str, object]) -> CheckedRecord:
    priority = item.get("priority")
    record = DnsRecord(
        purpose=Purpose(str(item["purpose"])),
        type=RecordType(str(item["type"])),
        name=str(item["name"]),
        value=str(item["value"]),
        priority=priority if isinstance(priority, int) else None,
    )
    reason = item.get("reason")
    return CheckedRecord(record, RecordStatus(str(item["status"])), reason if isinstance(reason, str) else None)


def _entity(row: RowMapping) -> CustomDomain:
    values = {name: row[name] for name in _COLUMNS}
    values["status"] = DomainStatus(values["status"])
    values["records"] = [_record(item) for item in values["records"] or []]
    values["dkim_private_pem"] = bytes(values["dkim_private_pem"])
    return CustomDomain(**values)


def _row(domain: CustomDomain) -> dict[str, object]:
    values = vars(domain).copy()
    values["status"] = domain.status.value
    values["records"] = [_record_json(checked) for checked in domain.records]
    return values


class SqlCustomDomainRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, domain_id: str, *, lock: bool = False) -> CustomDomain | None:
        if not storable(domain_id):
            return None
        query = select(custom_domains).where(custom_domains.c.domain_id == domain_id)
        if lock and self._c.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._c.execute(query).mappings().first()
        return _entity(row) if row else None

    def get_by_client_id(self, organization_id: str, client_id: str) -> CustomDomain | None:
        query = select(custom_domains).where(
            custom_domains.c.organization_id == organization_id, custom_domains.c.client_id == client_id
        )
        row = self._c.execute(query).mappings().first()
        return _entity(row) if row else None

    def get_many(self, domain_ids: list[str]) -> list[CustomDomain]:
        wanted = [name for name in domain_ids if storable(name)]
        if not wanted:
            return []
        query = select(custom_domains).where(custom_domains.c.domain_id.in_(wanted))
        return [_entity(row) for row in self._c.execute(query).mappings()]

    def overlapping(self, name: str) -> list[CustomDomain]:
        below = custom_domains.c.domain_id.like(f"%.{escape_like(name)}", escape="\\")
        query = select(custom_domains).where(or_(custom_domains.c.domain_id.in_(ancestors(name)), below))
        return [_entity(row) for row in self._c.execute(query).mappings()]

    def add(self, domain: CustomDomain) -> None:
        write_checked(self._c, insert(custom_domains), _row(domain))

    def update(self, domain: CustomDomain) -> None:
        values = _row(domain)
        del values["domain_id"]
        condition = custom_domains.c.domain_id == domain.domain_id
        self._c.execute(update(custom_domains).where(condition).values(**values))

    def delete(self, domain_id: str) -> None:
        self._c.execute(delete(custom_domains).where(custom_domains.c.domain_id == domain_id))

    def _in_scope(self, scope: DomainScope) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [custom_domains.c.organization_id == scope.organization_id]
        if scope.pod_id is not None:
            conditions.append(or_(custom_domains.c.pod_id == scope.pod_id, custom_domains.c.pod_id.is_(None)))
        return conditions

    def list_page(self, scope: DomainScope, page: PageRequest) -> list[CustomDomain]:
        query = select(custom_domains).where(*self._in_scope(scope))
        query = seek(query, page, custom_domains.c.created_at, custom_domains.c.domain_id)
        return [_entity(row) for row in self._c.execute(query).mappings()]

    def count(self, scope: DomainScope) -> int:
        query = select(func.count()).select_from(custom_domains).where(*self._in_scope(scope))
        return int(self._c.execute(query).scalar_one())

    def every(self) -> list[CustomDomain]:
        query = select(custom_domains).order_by(custom_domains.c.domain_id)
        return [_entity(row) for row in self._c.execute(query).mappings()]

    def in_pod(self, pod_id: str) -> bool:
        query = select(custom_domains.c.domain_id).where(custom_domains.c.pod_id == pod_id).limit(1)
        return self._c.execute(query).first() is not None

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[CustomDomain]:
        query = (
            select(custom_domains)
            .where(
                custom_domains.c.next_check_at <= now,
                or_(custom_domains.c.check_lease_until.is_(None), custom_domains.c.check_lease_until < now),
            )
            .order_by(custom_domains.c.next_check_at, custom_domains.c.domain_id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found = [_entity(row) for row in self._c.execute(query).mappings()]
        if found:
            names = [domain.domain_id for domain in found]
            condition = custom_domains.c.domain_id.in_(names)
            self._c.execute(update(custom_domains).where(condition).values(check_lease_until=lease_until))
            for domain in found:
                domain.check_lease_until = lease_until
        return found
