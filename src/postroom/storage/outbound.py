"""Repositories of outbound mail: delivery jobs with leases, recipient results, idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from postroom.domain.outbound import IdempotencyRecord, OutboundJob, RecipientState
from postroom.storage.repositories import write_checked
from postroom.storage.tables import delivery_jobs, delivery_recipients, idempotency_keys

_JOB_COLUMNS = [column.name for column in delivery_jobs.c]


class SqlOutboundJobRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_job(self, job: OutboundJob) -> None:
        self._c.execute(insert(delivery_jobs), vars(job))

    def add_recipients(self, row_id: str, addresses: list[str], now: datetime) -> None:
        rows = [{"row_id": row_id, "address": a, "state": "queued", "updated_at": now} for a in addresses]
        if rows:
            self._c.execute(insert(delivery_recipients), rows)

    def claim_due(self, now: datetime, lease: str, lease_until: datetime, limit: int) -> list[OutboundJob]:
        """Take up to ``limit`` due jobs: each moves to ``lease_until`` and carries ``lease`` until released."""
        query = (
            select(delivery_jobs.c.job_id)
            .where(delivery_jobs.c.next_attempt_at <= now)
            .order_by(delivery_jobs.c.next_attempt_at, delivery_jobs.c.job_id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids: list[str] = list(self._c.execute(query).scalars())
        if not ids:
            return []
        self._c.execute(
            update(delivery_jobs)
            .where(delivery_jobs.c.job_id.in_(ids))
            .values(next_attempt_at=lease_until, lease=lease, attempts=delivery_jobs.c.attempts + 1)
        )
        rows = self._c.execute(select(delivery_jobs).where(delivery_jobs.c.job_id.in_(ids))).mappings()
        return [OutboundJob(**{name: row[name] for name in _JOB_COLUMNS}) for row in rows]

    def get_job(self, job_id: str, lease: str) -> OutboundJob | None:
        """The job if the caller's lease still holds it (a job taken over after lease expiry is not theirs)."""
        query = select(delivery_jobs).where(delivery_jobs.c.job_id == job_id, delivery_jobs.c.lease == lease)
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._c.execute(query).mappings().first()
        return OutboundJob(**{name: row[name] for name in _JOB_COLUMNS}) if row else None

    def release(self, job_id: str, lease: str, now: datetime) -> None:
        """Clear the caller's lease (if it still holds) and make the job due now; the claim's attempt is undone."""
        self._c.execute(
            update(delivery_jobs)
            .where(delivery_jobs.c.job_id == job_id, delivery_jobs.c.lease == lease)
            .values(next_attempt_at=now, lease=None, attempts=delivery_jobs.c.attempts - 1)
        )

    def reschedule(self, job: OutboundJob) -> None:
        self._c.execute(
            update(delivery_jobs)
            .where(delivery_jobs.c.job_id == job.job_id)
            .values(
                recipients=job.recipients, next_attempt_at=job.next_attempt_at, lease=None, last_error=job.last_error
            )
        )

    def finish(self, job_id: str) -> None:
        self._c.execute(delete(delivery_jobs).where(delivery_jobs.c.job_id == job_id))

    def set_recipient(
        self,
        row_id: str,
        address: str,
        state: RecipientState,
        code: int | None,
        status: str,
        detail: str,
        now: datetime,
    ) -> None:
        self._c.execute(
            update(delivery_recipients)
            .where(delivery_recipients.c.row_id == row_id, delivery_recipients.c.address == address)
            .values(state=state, code=code, status=status, detail=detail[:2000], updated_at=now)
        )

    def recipient_states(self, row_id: str) -> dict[str, str]:
        query = select(delivery_recipients.c.address, delivery_recipients.c.state).where(
            delivery_recipients.c.row_id == row_id
        )
        return {str(row[0]): str(row[1]) for row in self._c.execute(query)}

    def pending_jobs(self, row_id: str) -> int:
        query = select(delivery_jobs.c.job_id).where(delivery_jobs.c.row_id == row_id)
        return len(list(self._c.execute(query)))


class SqlIdempotencyRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, organization_id: str, key: str) -> IdempotencyRecord | None:
        query = select(
            idempotency_keys.c.fingerprint,
            idempotency_keys.c.message_id,
            idempotency_keys.c.thread_id,
            idempotency_keys.c.created_at,
        ).where(idempotency_keys.c.organization_id == organization_id, idempotency_keys.c.idempotency_key == key)
        row = self._c.execute(query).first()
        return IdempotencyRecord(organization_id, key, row[0], row[1], row[2], row[3]) if row else None

    def put(self, record: IdempotencyRecord) -> None:
        """Record the key; a live record of the same key raises Conflict (forget expired ones first)."""
        write_checked(
            self._c,
            insert(idempotency_keys),
            {
                "organization_id": record.organization_id,
                "idempotency_key": record.key,
                "fingerprint": record.fingerprint,
                "message_id": record.message_id,
                "thread_id": record.thread_id,
                "created_at": record.created_at,
            },
            conflict_code="conflict",
        )

    def forget_before(self, organization_id: str, key: str, cutoff: datetime) -> None:
        self._c.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.organization_id == organization_id,
                idempotency_keys.c.idempotency_key == key,
                idempotency_keys.c.created_at < cutoff,
            )
        )
