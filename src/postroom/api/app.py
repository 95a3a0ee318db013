"""The FastAPI application factory: routes, the error table and request middleware."""

from __future__ import annotations

from fastapi import FastAPI

from postroom.api import downloads, errors, openapi, websocket
from postroom.api.middleware import RequestMiddleware
from postroom.api.ratelimit import RateLimiter
from postroom.api.routes import (
    api_keys,
    domains,
    drafts,
    health,
    identity,
    inbox_events,
    inboxes,
    lists,
    messages,
    pods,
    send,
    threads,
    webhooks,
)
from postroom.services.container import Services
from postroom.services.ports import EventStream


def create_app(
    services: Services,
    *,
    event_stream: EventStream,
    websocket_key_recheck_seconds: float = 60.0,
    rate_limit_per_second: float,
    rate_limit_burst: int,
    max_request_bytes: int,
    access_log: bool = True,
) -> FastAPI:
    app = FastAPI(
        title="Postroom",
        summary="Self-hostable email inboxes for AI agents, speaking the AgentMail REST API.",
        version="0.1.0",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    app.state.event_stream = event_stream
    app.state.websocket_key_recheck_seconds = websocket_key_recheck_seconds
    app.state.rate_limiter = RateLimiter(rate_limit_per_second, rate_limit_burst)
    errors.install(app)
    openapi.install(app)
    routes = (health, identity, inboxes, pods, api_keys, threads, send, messages, domains, drafts, webhooks, lists)
    for module in (*routes, inbox_events, downloads):
        app.include_router(module.router)
    app.include_router(websocket.router)
    app.add_middleware(RequestMiddleware, max_body_bytes=max_request_bytes, log_requests=access_log)
    return app
