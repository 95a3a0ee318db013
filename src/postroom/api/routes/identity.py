"""``GET /v0/auth/me`` and ``GET /v0/organizations``: who the key is and the organization it belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from postroom.api.deps import AppServices, Caller
from postroom.api.schemas.access import IdentityOut, OrganizationOut

router = APIRouter(tags=["identity"])


def me(caller: Caller, container: AppServices) -> IdentityOut:
    return IdentityOut.of(container.access.identity(caller))


def organization(caller: Caller, container: AppServices) -> OrganizationOut:
    return OrganizationOut.of(container.access.organization(caller))


router.add_api_route("/v0/auth/me", me, methods=["GET"], response_model_exclude_none=True)
router.add_api_route("/v0/organizations", organization, methods=["GET"], response_model_exclude_none=True)
