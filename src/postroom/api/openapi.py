"""The OpenAPI document as the server really answers: every parameter, its constraints, and every error status.

Routes read ids from the raw path and list filters from the raw query (see ``rawpath`` and ``deps.list_query``), so
FastAPI cannot see them; this module adds them from the route table and the dependencies each route declares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from postroom.api.deps import authenticate
from postroom.api.downloads import download
from postroom.api.mail_params import message_filter, thread_filter
from postroom.api.route_table import flat_routes
from postroom.api.routes.domains import zone_file
from postroom.api.routes.drafts import draft_filter
from postroom.api.routes.health import readyz
from postroom.api.routes.send import idempotency_key
from postroom.api.routes.webhooks import polling_not_offered
from postroom.domain.labels import MAX_LABEL_CHARS
from postroom.domain.search import MAX_QUERY_CHARS, MIN_QUERY_CHARS

ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
ERROR_RESPONSE: dict[str, Any] = {
    "title": "ErrorResponse",
    "type": "object",
    "required": ["name", "message"],
    "properties": {
        "name": {"type": "string"},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fix": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
DESCRIPTIONS = {
    400: "The request is malformed or a value is invalid",
    401: "No API key, or a key that is unknown, expired or deleted",
    403: "The key lacks a permission the operation needs",
    404: "No such resource, or it is outside the key's scope",
    409: "The change conflicts with the resource's current state",
    413: "The request body is larger than the server accepts",
    422: "The request is well formed but cannot be carried out",
    429: "Too many requests for this key (see Retry-After)",
    503: "A service the operation needs is unavailable; retry later",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}}
# A value starting with "[" is read as a JSON array (deps.list_query); a label is 1-256 characters once stripped,
# none of them a control character (domain.labels).
NOT_JSON_ARRAY = r"^(?!\s*\[)[^\x00]*$"
LABEL = r"^(?!\s*\[)\s*[^\s\x00-\x1f](?:[^\x00-\x1f]*[^\s\x00-\x1f])?\s*$"


def _list_parameter(name: str, description: str, item: str = NOT_JSON_ARRAY) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"{description}. One JSON array of strings, repeated keys, or a single value.",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string", "maxLength": MAX_LABEL_CHARS, "pattern": item}},
    }


LABELS = _list_parameter("labels", "Only items carrying every one of these labels", LABEL)
SUBJECT = _list_parameter("subject", "Subject substrings, any of which matches")
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeating a request with the same key returns the first result instead of sending again.",
    "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._~-]{1,256}$"},
}

# Parameters a dependency reads from the raw request, where FastAPI cannot see them.
RAW_PARAMETERS: dict[Callable[..., Any], list[dict[str, Any]]] = {
    message_filter: [
        LABELS,
        _list_parameter("from", "Sender addresses or substrings, any of which matches"),
        _list_parameter("to", "Recipient (to, cc, bcc) addresses or substrings, any of which matches"),
        SUBJECT,
    ],
    thread_filter: [
        LABELS,
        _list_parameter("senders", "Sender addresses or substrings, any of which matches"),
        _list_parameter("recipients", "Recipient addresses or substrings, any of which matches"),
        SUBJECT,
    ],
    draft_filter: [LABELS],
    idempotency_key: [IDEMPOTENCY_KEY],
}
QUERY_CONSTRAINTS: dict[str, dict[str, Any]] = {
    "limit": {"minimum": 1},
    "q": {"minLength": MIN_QUERY_CHARS, "maxLength": MAX_QUERY_CHARS, "pattern": r"^\s*\S[\s\S]*\S\s*$"},
}
PATH_CONSTRAINTS: dict[str, dict[str, Any]] = {
    "direction": {"enum": ["send", "receive", "reply"]},
    "list_type": {"enum": ["allow", "block"]},
}
# Bodies that are not JSON.
CONTENT: dict[Callable[..., Any], dict[str, Any]] = {
    zone_file: {"text/plain": {"schema": {"type": "string"}}},
    download: {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


@dataclass(frozen=True)
class StatusRule:
    """Statuses an operation answers beyond the ones every route of its kind answers, found from its path."""

    methods: frozenset[str]
    path: re.Pattern[str]
    statuses: tuple[int, ...]


def _rule(methods: str, path: str, *statuses: int) -> StatusRule:
    return StatusRule(frozenset(methods.split()), re.compile(path), statuses)


STATUS_RULES = (
    # Storage turns a broken uniqueness rule into a conflict on every write.
    _rule("POST PATCH DELETE", r"^/v0/", 409),
    # Sending checks recipients; drafts check them when saved; threads of 100+ messages are not relabelled.
    _rule("POST", r"/messages/(send|\{message_id\}/(reply|reply-all|forward))$", 422),
    _rule("POST PATCH", r"/drafts(/\{draft_id\}(/send)?)?$", 422),
    _rule("PATCH", r"/threads/\{thread_id\}$", 422),
    # Inboxes need a verified domain; domains refuse tracking and conflicting mail providers.
    _rule("POST", r"/inboxes$", 422),
    _rule("POST PATCH", r"/domains(/\{domain_id\})?$", 422),
    # Verifying asks DNS now and a resolver that does not answer is a 503; creating a domain leaves that for later.
    _rule("POST", r"/domains/\{domain_id\}/verify$", 503),
)
# Routes that answer with a status whatever the request.
ALWAYS: dict[Callable[..., Any], set[int]] = {readyz: {503}, polling_not_offered: {404}}
PATH_PARAMETER = re.compile(r"\{([^}/]+)\}")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _statuses(route: APIRoute, method: str, authenticated: bool, has_body: bool) -> set[int]:
    statuses: set[int] = set()
    if authenticated:
        statuses |= {400, 401, 403, 404, 429}
    if PATH_PARAMETER.search(route.path_format):
        statuses.add(404)
    if has_body:
        statuses |= {400, 413}
    statuses |= ALWAYS.get(route.endpoint, set())
    for rule in STATUS_RULES:
        if authenticated and method in rule.methods and rule.path.search(route.path_format):
            statuses.update(rule.statuses)
    return statuses


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value is a string on the wire; ``None`` only means the parameter is absent."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            rest = {key: value for key, value in schema.items() if key != "anyOf"}
            return {**kept[0], **rest}
    return schema


def _parameters(route: APIRoute, operation: dict[str, Any], calls: list[Callable[..., Any]]) -> list[dict[str, Any]]:
    declared = [dict(parameter) for parameter in operation.get("parameters", [])]
    for parameter in declared:
        schema = _not_null(dict(parameter.get("schema", {})))
        if parameter["in"] == "query":
            schema.update(QUERY_CONSTRAINTS.get(parameter["name"], {}))
        parameter["schema"] = schema
    path = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, **PATH_CONSTRAINTS.get(name, {})},
        }
        for name in PATH_PARAMETER.findall(route.path_format)
    ]
    names = {(parameter["name"], parameter["in"]) for parameter in declared}
    raw = [
        parameter
        for call in dict.fromkeys(calls)
        for parameter in RAW_PARAMETERS.get(call, [])
        if (parameter["name"], parameter["in"]) not in names
    ]
    return path + declared + list({id(parameter): parameter for parameter in raw}.values())


def _responses(route: APIRoute, operation: dict[str, Any], statuses: set[int], authenticated: bool) -> dict[str, Any]:
    responses = {code: value for code, value in operation.get("responses", {}).items() if code != "422"}
    if route.endpoint in CONTENT:
        responses["200"] = {"description": "Successful Response", "content": CONTENT[route.endpoint]}
    for status in sorted(statuses):
        answer: dict[str, Any] = {
            "description": DESCRIPTIONS[status],
            "content": {"application/json": {"schema": ERROR}},
        }
        if status == 429 and authenticated:
            answer["headers"] = RETRY_AFTER
        responses[str(status)] = answer
    return responses


def _operation(route: APIRoute, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    calls = list(_calls(route.dependant))
    authenticated = authenticate in calls
    has_body = "requestBody" in operation
    statuses = _statuses(route, method.upper(), authenticated, has_body)
    result = dict(operation)
    parameters = _parameters(route, operation, calls)
    if parameters:
        result["parameters"] = parameters
    result["responses"] = _responses(route, operation, statuses, authenticated)
    if authenticated:
        result["security"] = [{"bearer": []}]
    return result


def exact_openapi(app: FastAPI) -> dict[str, Any]:
    """The document FastAPI builds, completed from the routes; cached on the app like FastAPI's own."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, description=app.description, routes=app.routes
    )
    paths: dict[str, dict[str, Any]] = document.get("paths", {})
    for route in flat_routes(app.routes):
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                paths[route.path_format][method.lower()] = _operation(route, method.lower(), operation)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["ErrorResponse"] = ERROR_RESPONSE
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key"}}
    app.openapi_schema = document
    return document


def install(app: FastAPI) -> None:
    app.openapi = lambda: exact_openapi(app)  # type: ignore[method-assign]
