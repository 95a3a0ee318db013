"""Liveness (``/healthz``) and readiness (``/readyz``: the database and the blob store answer, each role this process
runs is ready and not draining; spam filter status)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from postroom.api.deps import AppServices
from postroom.api.errors import error_body

router = APIRouter(tags=["health"])


def healthz() -> dict[str, str]:
    return {"status": "ok"}


RoleReadiness = Callable[[], dict[str, dict[str, object]]]


def readyz(request: Request, container: AppServices) -> dict[str, object] | JSONResponse:
    readiness: RoleReadiness | None = getattr(request.app.state, "role_readiness", None)
    roles = readiness() if readiness is not None else {}
    extra: dict[str, object] = {"roles": roles} if roles else {}
    for ready, what in ((container.health.database_ready, "Database"), (container.health.blobs_ready, "Blob store")):
        if not ready():
            body = error_body("ServiceUnavailableError", "service_unavailable", f"{what} is not reachable")
            return JSONResponse({**body, **extra}, status_code=503)
    if unready := [name for name, role in roles.items() if not role.get("ready")]:
        body = error_body("ServiceUnavailableError", "service_unavailable", f"Not ready: {', '.join(unready)}")
        return JSONResponse({**body, **extra}, status_code=503)
    # A spam engine that is down does not make the server unready: mail is then stored unclassified.
    return {"status": "ready", **container.health.spam_filter(), **extra}


router.add_api_route("/healthz", healthz, methods=["GET"])
router.add_api_route("/readyz", readyz, methods=["GET"], response_model=None)
