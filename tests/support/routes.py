"""The application's HTTP operations read from its own route table, so probes cover routes added later."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation names (``Body | None``, ``list[Item]``...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in getattr(annotation, "__args__", ()):
        yield from models_in(argument)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the route's template, e.g. /v0/inboxes/{inbox_id}
    route: APIRoute

    @property
    def has_body(self) -> bool:
        return self.route.body_field is not None

    @property
    def body_model(self) -> type[BaseModel] | None:
        body = self.route.body_field
        return None if body is None else next(models_in(body.field_info.annotation), None)

    @property
    def path_names(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]

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
