"""Metrics routes at organization, pod and inbox scope (spec §3.13): event counts, usage totals, rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from postroom.api.deps import AppServices, Caller, IsoDateTime, RouteInboxId, RoutePodId, list_query, query_instant
from postroom.api.schemas.metrics import MetricBucketOut, RatePointOut, UsagePointOut
from postroom.services.metrics.queries import MetricsQuery

router = APIRouter(tags=["metrics"])
SCOPES = ("/v0", "/v0/pods/{pod_id}", "/v0/inboxes/{inbox_id}")


@dataclass(frozen=True)
class _Window:
    """The time window and paging every metrics query takes."""

    start: datetime | None
    end: datetime | None
    period: int | None
    limit: int | None
    descending: bool


async def _window(
    start: Annotated[IsoDateTime | None, Query()] = None,
    end: Annotated[IsoDateTime | None, Query()] = None,
    period: Annotated[int | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
    descending: Annotated[bool, Query()] = False,
) -> _Window:
    return _Window(query_instant(start, "start"), query_instant(end, "end"), period, limit, descending)


Window = Annotated[_Window, Depends(_window)]


def _query(request: Request, types_name: str, window: _Window, rate_window: int | None = None) -> MetricsQuery:
    return MetricsQuery(
        list_query(request, types_name),
        window.start,
        window.end,
        window.period,
        window.limit,
        window.descending,
        rate_window,
    )


async def events_query(request: Request, window: Window) -> MetricsQuery:
    return _query(request, "event_types", window)


async def usage_query(request: Request, window: Window) -> MetricsQuery:
    return _query(request, "usage_types", window)


async def rates_query(
    request: Request, window: Window, rate_window: Annotated[int | None, Query(alias="window")] = None
) -> MetricsQuery:
    return _query(request, "rate_types", window, rate_window)


def query_events(
    caller: Caller,
    container: AppServices,
    pod_id: RoutePodId,
    inbox_id: RouteInboxId,
    query: Annotated[MetricsQuery, Depends(events_query)],
) -> dict[str, list[MetricBucketOut]]:
    series = container.metrics.events(caller, query, pod_id, inbox_id)
    return {kind: [MetricBucketOut.of(point) for point in points] for kind, points in series.items()}


def query_usage(
    caller: Caller,
    container: AppServices,
    pod_id: RoutePodId,
    inbox_id: RouteInboxId,
    query: Annotated[MetricsQuery, Depends(usage_query)],
) -> dict[str, list[UsagePointOut]]:
    series = container.metrics.usage(caller, query, pod_id, inbox_id)
    return {kind: [UsagePointOut.of(point) for point in points] for kind, points in series.items()}


def query_rates(
    caller: Caller,
    container: AppServices,
    pod_id: RoutePodId,
    inbox_id: RouteInboxId,
    query: Annotated[MetricsQuery, Depends(rates_query)],
) -> dict[str, list[RatePointOut]]:
    series = container.metrics.rates(caller, query, pod_id, inbox_id)
    return {kind: [RatePointOut.of(point) for point in points] for kind, points in series.items()}


for scope in SCOPES:
    router.add_api_route(f"{scope}/metrics/events", query_events, methods=["GET"])
    router.add_api_route(f"{scope}/metrics/usage", query_usage, methods=["GET"])
    router.add_api_route(f"{scope}/metrics/rates", query_rates, methods=["GET"])
