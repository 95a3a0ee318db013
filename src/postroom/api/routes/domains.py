"""Domain routes at organization (``/v0/domains``) and pod (``/v0/pods/{pod_id}/domains``) scope (spec §3.9)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from postroom.api.deps import AppServices, Caller, Listing, RoutePodId
from postroom.api.rawpath import segment
from postroom.api.schemas.domains import CreateDomainBody, ListDomainsOut, UpdateDomainBody
from postroom.errors import InvalidInput
from postroom.services.domains.domains import DomainChanges, NewDomain
from postroom.wire.domains import DomainItemOut, DomainOut

router = APIRouter(tags=["domains"])
ORG = "/v0/domains"
POD = "/v0/pods/{pod_id}/domains"
ZONE_TYPE = "text/plain; charset=utf-8"


def _domain_id(request: Request) -> str:
    return segment(request.path_params["domain_id"])


def list_domains(caller: Caller, container: AppServices, listing: Listing, pod_id: RoutePodId) -> ListDomainsOut:
    page = container.domains.list(caller, listing, pod_id)
    domains = [DomainItemOut.of(domain) for domain in page.items]
    return ListDomainsOut(count=len(domains), limit=page.limit, next_page_token=page.next_page_token, domains=domains)


def create_domain(caller: Caller, container: AppServices, pod_id: RoutePodId, body: CreateDomainBody) -> DomainOut:
    request = NewDomain(
        domain=body.domain,
        feedback_enabled=True if body.feedback_enabled is None else body.feedback_enabled,
        inbound_enabled=True if body.inbound_enabled is None else body.inbound_enabled,
        subdomains_enabled=bool(body.subdomains_enabled),
        tracking_enabled=bool(body.tracking_enabled),
        allow_conflicting_provider=bool(body.allow_conflicting_provider),
        client_id=body.client_id,
    )
    return DomainOut.of_view(container.domains.create(caller, request, pod_id))


def get_domain(request: Request, caller: Caller, container: AppServices, pod_id: RoutePodId) -> DomainOut:
    return DomainOut.of_view(container.domains.get(caller, _domain_id(request), pod_id))


def update_domain(
    request: Request, caller: Caller, container: AppServices, pod_id: RoutePodId, body: UpdateDomainBody
) -> DomainOut:
    nulls = sorted(name for name in body.model_fields_set if getattr(body, name) is None)
    if nulls:
        raise InvalidInput(f"{nulls[0]} must be true or false", field=nulls[0])
    changes = DomainChanges(
        feedback_enabled=body.feedback_enabled,
        inbound_enabled=body.inbound_enabled,
        subdomains_enabled=body.subdomains_enabled,
        tracking_enabled=body.tracking_enabled,
    )
    return DomainOut.of_view(container.domains.update(caller, _domain_id(request), changes, pod_id))


def delete_domain(request: Request, caller: Caller, container: AppServices, pod_id: RoutePodId) -> Response:
    container.domains.delete(caller, _domain_id(request), pod_id)
    return Response(status_code=204)


def verify_domain(request: Request, caller: Caller, container: AppServices, pod_id: RoutePodId) -> DomainOut:
    """Checks the records now and answers with the outcome (the SDK reads no body here, spec §1.4; curl does)."""
    return DomainOut.of_view(container.domains.verify(caller, _domain_id(request), pod_id))


def zone_file(request: Request, caller: Caller, container: AppServices, pod_id: RoutePodId) -> Response:
    text = container.domains.zone_file(caller, _domain_id(request), pod_id)
    return Response(text, media_type=ZONE_TYPE)


for prefix in (ORG, POD):
    common = {"response_model_exclude_none": True}
    router.add_api_route(prefix, list_domains, methods=["GET"], **common)  # type: ignore[arg-type]
    router.add_api_route(prefix, create_domain, methods=["POST"], **common)  # type: ignore[arg-type]
    router.add_api_route(f"{prefix}/{{domain_id}}", get_domain, methods=["GET"], **common)  # type: ignore[arg-type]
    router.add_api_route(f"{prefix}/{{domain_id}}", update_domain, methods=["PATCH"], **common)  # type: ignore[arg-type]
    router.add_api_route(f"{prefix}/{{domain_id}}", delete_domain, methods=["DELETE"], status_code=204)
    router.add_api_route(f"{prefix}/{{domain_id}}/verify", verify_domain, methods=["POST"], **common)  # type: ignore[arg-type]
    router.add_api_route(f"{prefix}/{{domain_id}}/zone-file", zone_file, methods=["GET"])
