"""The application's HTTP operations read from its own route table, so probes cover routes added later."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the route's template, e.g. /v0/inboxes/{inbox_id}
    route: APIRoute

    @property
    def has_body(self) -> bool:
        return self.route.body_field is not None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: FastAPI) -> list[Operation]:
    """Every method of every FastAPI route (mounted sub-applications such as MCP and the console excluded)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found.extend(Operation(method, route.path_format, route) for method in sorted(route.methods))
    return found
