"""The FastAPI application factory: routes, the error table and request middleware."""

from __future__ import annotations

import time

from fastapi import Depends, FastAPI

from postroom.api import downloads, errors, openapi, websocket
from postroom.api.deps import storable_body
from postroom.api.middleware import RequestMiddleware
from postroom.api.ratelimit import FailedAuthentications, MemoryRateLimits, RateLimiter
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
    metrics,
    pods,
    send,
    threads,
    webhooks,
)
from postroom.api.routes.health import RoleReadiness
from postroom.services.container import Services
from postroom.services.ports import Clock, EventStream, RateLimits


def create_app(
    services: Services,
    *,
    event_stream: EventStream,
    websocket_key_recheck_seconds: float = 60.0,
    rate_limit_per_second: float,
    rate_limit_burst: int,
    max_request_bytes: int,
    access_log: bool = True,
    clock: Clock | None = None,
    auth_failures_per_minute: float = 0.0,
    auth_failure_burst: int = 0,
    rate_limits: RateLimits | None = None,
    role_readiness: RoleReadiness | None = None,
    point_reads_on_event_loop: bool = False,
) -> FastAPI:
    app = FastAPI(
        title="Postroom",
        summary="Self-hostable email inboxes for AI agents, speaking the AgentMail REST API.",
        version="0.1.0",
        docs_url="/docs",
        redoc_url=None,
        dependencies=[Depends(storable_body)],
    )
    app.state.services = services
    app.state.event_stream = event_stream
    app.state.websocket_key_recheck_seconds = websocket_key_recheck_seconds
    app.state.rate_limiter = RateLimiter(rate_limit_per_second, rate_limit_burst, limits=rate_limits)
    app.state.role_readiness = role_readiness
    app.state.point_reads_on_event_loop = point_reads_on_event_loop
    seconds = (lambda: clock.now().timestamp()) if clock is not None else time.monotonic
    # In the store the per-key limit uses (shared by every process on PostgreSQL or Redis), under its own keys;
    # without one, in this process on the given clock.
    failure_limits = rate_limits if rate_limits is not None else MemoryRateLimits(seconds=seconds)
    failure_limiter = RateLimiter(
        auth_failures_per_minute / 60, auth_failure_burst, limits=failure_limits, namespace="auth-fail:"
    )
    app.state.failed_authentications = FailedAuthentications(failure_limiter)
    errors.install(app)
    openapi.install(app)
    # FastAPI tries routes one by one, so the most requested (inboxes, messages) come early; no two routers match
    # the same method and path, and send stays ahead of messages so a wrong method there gets the same 405 as before.
    routes = (inboxes, send, messages, threads, health, identity, pods, api_keys, domains, drafts, webhooks, lists)
    for module in (*routes, inbox_events, metrics, downloads):
        app.include_router(module.router)
    app.include_router(websocket.router)
    app.add_middleware(RequestMiddleware, max_body_bytes=max_request_bytes, log_requests=access_log)
    return app


def create_health_app(services: Services, role_readiness: RoleReadiness) -> FastAPI:
    """What the HTTP port serves on a process without the api role: /healthz and /readyz only."""
    app = FastAPI(title="Postroom", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    app.state.role_readiness = role_readiness
    errors.install(app)
    app.include_router(health.router)
    return app
