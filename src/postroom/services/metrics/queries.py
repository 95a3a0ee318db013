"""Metrics queries (spec §3.13): event counts, usage running totals and bounce/complaint rates, from the rollups.

Buckets are cells of ``period`` seconds on the grid counted from the Unix epoch: the first bucket is the one
holding ``start`` and the last the one holding the instant before ``end``. Counts are kept per minute, so with a
period that is not a whole number of minutes a minute's events fall in the bucket holding its start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, TypeVar

from postroom.domain.access import Principal
from postroom.domain.metrics import (
    HOUR,
    INBOX_USAGE,
    METRIC_EVENT_TYPES,
    MINUTE,
    ORGANIZATION_USAGE,
    POD_USAGE,
    RATE_RECIPIENTS,
    RATE_TYPES,
    SENT_RECIPIENTS,
    cell_of,
    epoch_seconds,
    from_epoch,
    grain_for,
    inbox_key,
    organization_key,
    pod_key,
)
from postroom.errors import InvalidInput
from postroom.services.access.authentication import require
from postroom.services.access.scopes import visible_inbox, visible_pod
from postroom.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

MAX_BUCKETS = 1000
HISTORY = timedelta(days=90)
DEFAULT_RANGE = timedelta(hours=24)
MAX_PERIOD = 86400
DEFAULT_RATE_PERIOD = 3600
MIN_RATE_PERIOD = 60
DEFAULT_WINDOW = 86400
MAX_WINDOW = 2592000
# How far back any answer can read minute rollups: a rate point 90 days back, its bucket aligned down by up to a
# period, and the window before it. Minute rows older than this change no answer (hour rows are kept for good).
MINUTE_ROWS_READ = HISTORY + timedelta(seconds=MAX_PERIOD + MAX_WINDOW)


T = TypeVar("T")


class RangeTooWide(InvalidInput):
    code = "query_range_too_wide"


@dataclass(frozen=True)
class MetricsQuery:
    """What a caller asked; ``types`` None means every type valid at the scope."""

    types: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    period: int | None = None
    limit: int | None = None
    descending: bool = False
    window: int | None = None


@dataclass(frozen=True)
class Scope:
    key: str
    usage_types: tuple[str, ...]


@dataclass(slots=True)
class Count:
    timestamp: datetime
    count: int


class Total(NamedTuple):
    timestamp: datetime
    value: int


class Rate(NamedTuple):
    timestamp: datetime
    rate: float | None
    sent: int


@dataclass(frozen=True)
class _Range:
    start: int
    end: int


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _types(given: list[str] | None, valid: tuple[str, ...], field: str) -> list[str]:
    if given is None or not given:
        return list(valid)
    wrong = [value for value in given if value not in valid]
    if wrong:
        raise InvalidInput(
            f"{field} has values not valid here: {', '.join(wrong)}; valid: {', '.join(valid)}", field=field
        )
    return list(dict.fromkeys(given))


def _period(period: int | None, low: int, default: int | None) -> int | None:
    if period is None:
        return default
    if not low <= period <= MAX_PERIOD:
        raise InvalidInput(f"period must be between {low} and {MAX_PERIOD} seconds", field="period")
    return period


def _limit(limit: int | None) -> int:
    if limit is None:
        return MAX_BUCKETS
    if limit < 1:
        raise InvalidInput("limit must be positive", field="limit")
    return min(limit, MAX_BUCKETS)


def _ordered(points: list[T], query: MetricsQuery) -> list[T]:
    ordered = list(reversed(points)) if query.descending else points
    return ordered[: _limit(query.limit)]


def _bucket_starts(span: _Range, period: int, extra: int = 0) -> list[int]:
    first, last = cell_of(span.start, period), cell_of(span.end - 1, period)
    count = (last - first) // period + 1
    if count + extra // period > MAX_BUCKETS:
        raise RangeTooWide(
            f"The range holds {count + extra // period} buckets of {period} s; at most {MAX_BUCKETS} are allowed",
            fix="Narrow start/end or choose a larger period.",
        )
    return list(range(first, last + 1, period))


class MetricsService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def _range(self, query: MetricsQuery) -> _Range:
        now = self._clock.now()
        end = min(_utc(query.end), now) if query.end is not None else now
        start = _utc(query.start) if query.start is not None else end - DEFAULT_RANGE
        if start < now - HISTORY:
            raise InvalidInput("start must be within the last 90 days", field="start")
        if start >= end:
            raise InvalidInput("start must be before end (a future end counts as now)", field="start")
        return _Range(epoch_seconds(start), max(epoch_seconds(end), epoch_seconds(start) + 1))

    def _scope(self, uow: UnitOfWork, principal: Principal, pod_id: str | None, inbox_id: str | None) -> Scope:
        if inbox_id is not None:
            return Scope(inbox_key(visible_inbox(uow, principal, inbox_id).inbox_id), INBOX_USAGE)
        if pod_id is not None:
            return Scope(pod_key(visible_pod(uow, principal, pod_id).pod_id), POD_USAGE)
        if principal.inbox_id is not None:
            return Scope(inbox_key(principal.inbox_id), INBOX_USAGE)
        if principal.pod_id is not None:
            return Scope(pod_key(principal.pod_id), POD_USAGE)
        return Scope(organization_key(principal.organization_id), ORGANIZATION_USAGE)

    def events(
        self, principal: Principal, query: MetricsQuery, pod_id: str | None = None, inbox_id: str | None = None
    ) -> dict[str, list[Count]]:
        require(principal, "metrics_read")
        types = _types(query.types, METRIC_EVENT_TYPES, "event_types")
        span = self._range(query)
        period = _period(query.period, 1, None)
        with self._uow() as uow:
            scope = self._scope(uow, principal, pod_id, inbox_id)
            if period is None:  # each minute that counted something
                sums = uow.metrics.bucket_sums(scope.key, types, MINUTE, cell_of(span.start, MINUTE), span.end, None)
                minutes: dict[str, list[Count]] = {kind: [] for kind in types}
                for (metric, cell), count in sorted(sums.items()):
                    if count:
                        minutes[metric].append(Count(from_epoch(cell), count))
                return {kind: _ordered(points, query) for kind, points in minutes.items()}
            starts = _bucket_starts(span, period)
            grain = grain_for(period)
            sums = uow.metrics.bucket_sums(scope.key, types, grain, starts[0], starts[-1] + period, period)
        stamps = [(at, from_epoch(at)) for at in starts]
        return {
            kind: _ordered([Count(stamp, sums.get((kind, at), 0)) for at, stamp in stamps], query) for kind in types
        }

    def usage(
        self, principal: Principal, query: MetricsQuery, pod_id: str | None = None, inbox_id: str | None = None
    ) -> dict[str, list[Total]]:
        """Running totals at the end of each bucket (the last one ends at ``end``)."""
        require(principal, "metrics_read")
        span = self._range(query)
        period = _period(query.period, 1, DEFAULT_RATE_PERIOD)
        assert period is not None
        with self._uow() as uow:
            scope = self._scope(uow, principal, pod_id, inbox_id)
            types = _types(query.types, scope.usage_types, "usage_types")
            starts = _bucket_starts(span, period)
            grain = grain_for(period)
            totals = self._totals_before(uow, scope.key, types, starts[0])
            sums = uow.metrics.bucket_sums(scope.key, types, grain, starts[0], starts[-1] + period, period)
        series: dict[str, list[Total]] = {}
        for kind in types:
            running = totals.get(kind, 0)
            points = []
            for at in starts:
                running += sums.get((kind, at), 0)
                points.append(Total(from_epoch(min(at + period, span.end)), running))
            series[kind] = _ordered(points, query)
        return series

    @staticmethod
    def _totals_before(uow: UnitOfWork, scope_key: str, types: list[str], before: int) -> dict[str, int]:
        """Totals of all changes before ``before``: whole hours, then the minutes of the hour it falls in."""
        hour = cell_of(before, HOUR)
        totals = uow.metrics.totals_before(scope_key, types, HOUR, hour)
        if before > hour:
            for (metric, _), amount in uow.metrics.bucket_sums(scope_key, types, MINUTE, hour, before, None).items():
                totals[metric] = totals.get(metric, 0) + amount
        return totals

    def rates(
        self, principal: Principal, query: MetricsQuery, pod_id: str | None = None, inbox_id: str | None = None
    ) -> dict[str, list[Rate]]:
        """At each grid point in (start, end], and at ``end`` itself: bounced (complained) over sent recipients in
        the window before it (for the point at ``end``, the window ends with the minute holding it)."""
        require(principal, "metrics_read")
        types = _types(query.types, RATE_TYPES, "rate_types")
        span = self._range(query)
        period = _period(query.period, MIN_RATE_PERIOD, DEFAULT_RATE_PERIOD)
        assert period is not None
        window = DEFAULT_WINDOW if query.window is None else query.window
        if window <= 0 or window > MAX_WINDOW or window % period:
            raise InvalidInput(
                f"window must be a whole multiple of period, at most {MAX_WINDOW} seconds", field="window"
            )
        points = [at + period for at in _bucket_starts(span, period, window) if span.start < at + period <= span.end]
        metrics = [SENT_RECIPIENTS, *(RATE_RECIPIENTS[kind] for kind in types)]
        # ``end`` off the grid gets a last point of its own, so the rate of the last minutes is not left out.
        tail_end = cell_of(span.end - 1, MINUTE) + MINUTE if span.end % period else None
        with self._uow() as uow:
            scope = self._scope(uow, principal, pod_id, inbox_id)
            sums = {}
            if points:
                sums = uow.metrics.bucket_sums(
                    scope.key, metrics, grain_for(period), points[0] - window, points[-1], period
                )
            tail = {}
            if tail_end is not None:
                found = uow.metrics.bucket_sums(scope.key, metrics, MINUTE, tail_end - window, tail_end, window)
                tail = {metric: amount for (metric, _), amount in found.items()}
        cells = range(points[0] - window if points else 0, points[-1] if points else 0, period)

        def windowed(metric: str) -> list[int]:
            """Per point, the metric's sum over the window before it (prefix sums: one pass over the cells)."""
            prefix = [0]
            for at in cells:
                prefix.append(prefix[-1] + sums.get((metric, at), 0))
            width = window // period
            return [prefix[index + width] - prefix[index] for index in range(len(points))]

        stamps = [from_epoch(point) for point in points]
        sent = windowed(SENT_RECIPIENTS)
        if tail_end is not None:
            stamps.append(from_epoch(span.end))
            sent.append(tail.get(SENT_RECIPIENTS, 0))
        series: dict[str, list[Rate]] = {}
        for kind in types:
            bad = windowed(RATE_RECIPIENTS[kind])
            if tail_end is not None:
                bad.append(tail.get(RATE_RECIPIENTS[kind], 0))
            rates = [
                Rate(stamp, bad[index] / sent[index] if sent[index] else None, sent[index])
                for index, stamp in enumerate(stamps)
            ]
            series[kind] = _ordered(rates, query)
        return series
