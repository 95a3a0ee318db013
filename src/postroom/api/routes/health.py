"""Liveness (``/healthz``) and readiness (``/readyz``: the database answers) probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from postroom.api.deps import AppServices
from postroom.api.errors import error_body

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(container: AppServices) -> dict[str, str] | JSONResponse:
    if not container.health.database_ready():
        body = error_body("ServiceUnavailableError", "service_unavailable", "Database is not reachable")
        return JSONResponse(body, status_code=503)
    return {"status": "ready"}
