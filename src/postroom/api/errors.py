"""The one table from errors to HTTP: every failure leaves as the spec's ErrorResponse JSON, never HTML."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from postroom.api.route_table import flat_routes
from postroom.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PostroomError,
    RateLimited,
    ServiceUnavailable,
    TooLarge,
    Unauthorized,
    Unprocessable,
)

log = logging.getLogger("postroom.api")

STATUS: dict[type[PostroomError], tuple[int, str]] = {
    InvalidInput: (400, "ValidationError"),
    Unauthorized: (401, "UnauthorizedError"),
    Forbidden: (403, "ForbiddenError"),
    NotFound: (404, "NotFoundError"),
    Conflict: (409, "ConflictError"),
    TooLarge: (413, "PayloadTooLargeError"),
    Unprocessable: (422, "UnprocessableEntityError"),
    RateLimited: (429, "RateLimitExceededError"),
    ServiceUnavailable: (503, "ServiceUnavailableError"),
}
HTTP_NAMES = {
    400: ("ValidationError", "validation_error"),
    401: ("UnauthorizedError", "unauthorized"),
    403: ("ForbiddenError", "forbidden"),
    404: ("NotFoundError", "not_found"),
    405: ("MethodNotAllowedError", "method_not_allowed"),
    413: ("PayloadTooLargeError", "payload_too_large"),
    415: ("UnsupportedMediaTypeError", "unsupported_media_type"),
}


def error_body(name: str, code: str, message: str, fix: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"name": name, "code": code, "message": message}
    if fix:
        body["fix"] = fix
    return body


def error_name(error: PostroomError) -> str:
    return next((name for kind, (_, name) in STATUS.items() if isinstance(error, kind)), "InternalServerError")


def postroom_error_response(error: PostroomError) -> JSONResponse:
    status, name = next(
        (value for kind, value in STATUS.items() if isinstance(error, kind)), (500, "InternalServerError")
    )
    body = error_body(name, error.code, error.message, error.fix)
    headers: dict[str, str] = {}
    if isinstance(error, InvalidInput):
        body["errors"] = [{"path": item.path, "message": item.message} for item in error.errors]
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=status, headers=headers)


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts)


def validation_error_response(error: RequestValidationError) -> JSONResponse:
    errors = []
    for item in error.errors():
        path = _location(tuple(item.get("loc", ())))
        message = str(item.get("msg", "invalid value"))
        if item.get("type") == "json_invalid":
            path, message = "body", "Request body is not valid JSON"
        errors.append({"path": path, "message": message})
    summary = "; ".join(f"{e['path']}: {e['message']}" if e["path"] else e["message"] for e in errors[:5])
    body = error_body("ValidationError", "validation_error", summary or "Invalid request")
    body["errors"] = errors
    return JSONResponse(body, status_code=400)


def allowed_methods(request: Request) -> str:
    """The methods served at this path (each route holds one method, so the router's own 405 names only one)."""
    matching = [
        route
        for route in flat_routes(request.app.router.routes)
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE
    ]
    # "/v0/inboxes/search" also matches "/v0/inboxes/{inbox_id}"; the resource is the most literal template's.
    fewest = min((route.path_format.count("{") for route in matching), default=0)
    methods = {method for route in matching if route.path_format.count("{") == fewest for method in route.methods or ()}
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(PostroomError)
    async def _postroom(_request: Request, error: PostroomError) -> JSONResponse:
        return postroom_error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_error_response(error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        name, code = HTTP_NAMES.get(error.status_code, ("HttpError", "http_error"))
        message = "No such route" if error.status_code == 404 else str(error.detail)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(error_body(name, code, message), status_code=error.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=error)
        return JSONResponse(error_body("InternalServerError", "internal_error", "Internal error"), status_code=500)
