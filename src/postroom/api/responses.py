"""JSON responses serialized straight from a response model, without FastAPI validating it a second time."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def model_response(model: BaseModel) -> Response:
    """The bytes FastAPI would send for ``model`` with ``response_model_exclude_none`` (by alias, nulls left out).

    Routes returning this declare ``response_model`` themselves so that the OpenAPI document stays the same.
    """
    return Response(model.model_dump_json(by_alias=True, exclude_none=True), media_type="application/json")
