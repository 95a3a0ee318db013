"""Request bodies and the list envelope of the domain routes (spec §3.9); the shapes themselves are in wire/."""

from __future__ import annotations

from pydantic import StrictBool, StrictStr

from postroom.api.schemas.access import PageOut, RequestBody
from postroom.wire.domains import DomainItemOut


class CreateDomainBody(RequestBody):
    domain: StrictStr
    allow_conflicting_provider: StrictBool | None = None
    feedback_enabled: StrictBool | None = None
    inbound_enabled: StrictBool | None = None
    subdomains_enabled: StrictBool | None = None
    tracking_enabled: StrictBool | None = None
    client_id: StrictStr | None = None


class UpdateDomainBody(RequestBody):
    feedback_enabled: StrictBool | None = None
    inbound_enabled: StrictBool | None = None
    subdomains_enabled: StrictBool | None = None
    tracking_enabled: StrictBool | None = None


class ListDomainsOut(PageOut):
    domains: list[DomainItemOut]
