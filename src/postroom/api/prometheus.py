"""``GET /metrics``: the Prometheus text exposition, behind a bearer token (spec §8), never under ``/v0``.

With ``POSTROOM_PROMETHEUS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``. Without one, the
metrics are served openly only where nobody else can reach them: an API bound to loopback, or the separate
listener (``POSTROOM_PROMETHEUS_PORT``, bound to ``POSTROOM_PROMETHEUS_HOST``, loopback by default).
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from postroom.api.errors import error_body
from postroom.observability.exposition import Exposition

PATH = "/metrics"
UNPROTECTED_FIX = (
    "Set POSTROOM_PROMETHEUS_TOKEN and scrape with that bearer token, bind the API to loopback, "
    "or serve metrics on their own listener (POSTROOM_PROMETHEUS_PORT)."
)


def _refusal(message: str, fix: str | None = None) -> JSONResponse:
    body = error_body("UnauthorizedError", "unauthorized", message, fix)
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def mount_prometheus(app: FastAPI, exposition: Exposition, *, token: str | None, open_without_token: bool) -> None:
    async def metrics(request: Request) -> Response:
        if token:
            if not _authorized(request, token):
                return _refusal("A valid metrics bearer token is required")
        elif not open_without_token:
            return _refusal("Metrics are not served without a token on a public listener", UNPROTECTED_FIX)
        body = await run_in_threadpool(exposition.render)
        return Response(body, media_type=exposition.content_type)

    app.add_api_route(PATH, metrics, methods=["GET"], include_in_schema=False)


def metrics_app(exposition: Exposition, *, token: str | None) -> FastAPI:
    """The separate metrics listener: only ``/metrics``, token enforced when one is configured."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    mount_prometheus(app, exposition, token=token, open_without_token=True)
    return app
