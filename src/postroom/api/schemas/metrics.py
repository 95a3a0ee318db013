"""Wire shapes of the Metrics API (spec §2 "Metrics responses"): maps from a type to its series of points."""

from __future__ import annotations

from datetime import datetime

from postroom.services.metrics.queries import Count, Rate, Total
from postroom.wire.base import Response


class MetricBucketOut(Response):
    timestamp: datetime
    count: int

    @classmethod
    def of(cls, point: Count) -> MetricBucketOut:
        return cls(timestamp=point.timestamp, count=point.count)


class UsagePointOut(Response):
    timestamp: datetime
    value: int

    @classmethod
    def of(cls, point: Total) -> UsagePointOut:
        return cls(timestamp=point.timestamp, value=point.value)


class RatePointOut(Response):
    timestamp: datetime
    rate: float | None
    sent: int

    @classmethod
    def of(cls, point: Rate) -> RatePointOut:
        return cls(timestamp=point.timestamp, rate=point.rate, sent=point.sent)
