"""The base of every response model: how values serialise on the wire."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Response(BaseModel):
    model_config = ConfigDict(ser_json_timedelta="iso8601")
