"""Liveness (``/healthz``) and readiness (``/readyz``: the database and the blob store answer; spam filter status)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from postroom.api.deps import AppServices
from postroom.api.errors import error_body

router = APIRouter(tags=["health"])


def healthz() -> dict[str, str]:
    return {"status": "ok"}


def readyz(container: AppServices) -> dict[str, object] | JSONResponse:
    for ready, what in ((container.health.database_ready, "Database"), (container.health.blobs_ready, "Blob store")):
        if not ready():
            body = error_body("ServiceUnavailableError", "service_unavailable", f"{what} is not reachable")
            return JSONResponse(body, status_code=503)
    # A spam engine that is down does not make the server unready: mail is then stored unclassified.
    return {"status": "ready", **container.health.spam_filter()}


router.add_api_route("/healthz", healthz, methods=["GET"])
router.add_api_route("/readyz", readyz, methods=["GET"], response_model=None)
