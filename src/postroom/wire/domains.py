"""Domain, DomainItem and VerificationRecord (spec §2): the API's domain shapes and the ``domain.verified`` payload."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from postroom.domain.custom_domains import CustomDomain, DomainView
from postroom.domain.domain_records import CheckedRecord
from postroom.wire.base import Response


class VerificationRecordOut(Response):
    type: Literal["TXT", "CNAME", "MX"]
    name: str
    value: str
    status: Literal["MISSING", "INVALID", "VALID"]
    priority: int | None = None
    reason: str | None = None

    @classmethod
    def of(cls, checked: CheckedRecord) -> VerificationRecordOut:
        record = checked.record
        return cls(
            type=record.type.value,
            name=record.name,
            value=record.value,
            status=checked.status.value,
            priority=record.priority,
            reason=checked.reason,
        )


class DomainItemOut(Response):
    pod_id: str | None = None
    domain_id: str
    domain: str
    feedback_enabled: bool
    inbound_enabled: bool
    subdomains_enabled: bool
    tracking_enabled: bool
    client_id: str | None = None
    updated_at: AwareDatetime
    created_at: AwareDatetime

    @classmethod
    def of(cls, domain: CustomDomain) -> DomainItemOut:
        return cls(
            pod_id=domain.pod_id,
            domain_id=domain.domain_id,
            domain=domain.domain_id,
            feedback_enabled=domain.feedback_enabled,
            inbound_enabled=domain.inbound_enabled,
            subdomains_enabled=domain.subdomains_enabled,
            tracking_enabled=domain.tracking_enabled,
            client_id=domain.client_id,
            updated_at=domain.updated_at,
            created_at=domain.created_at,
        )


class DomainOut(DomainItemOut):
    status: Literal["NOT_STARTED", "PENDING", "VERIFYING", "VERIFIED", "INVALID", "FAILED"]
    reason: str | None = None
    records: list[VerificationRecordOut]

    @classmethod
    def of_view(cls, view: DomainView) -> DomainOut:
        item = DomainItemOut.of(view.domain)
        return cls(
            **item.model_dump(),
            status=view.domain.status.value,
            reason=view.domain.reason,
            records=[VerificationRecordOut.of(checked) for checked in view.records],
        )
