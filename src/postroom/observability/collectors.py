"""The process's Prometheus collectors. Transports and workers record into them; nothing here imports them back.

Under ``PROMETHEUS_MULTIPROC_DIR`` prometheus_client keeps the values in files shared by the processes of one
host; gauges say how they combine across processes (``livesum``: the sum over live processes).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WEBHOOK_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 3600.0)

HTTP_REQUESTS = Counter(
    "postroom_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "postroom_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
RATE_LIMIT_REFUSALS = Counter("postroom_rate_limit_refusals", "Requests refused with 429 by the rate limit")
WEBSOCKET_CLIENTS = Gauge("postroom_websocket_clients", "Open websocket connections", multiprocess_mode="livesum")

SMTP_SESSIONS = Counter("postroom_smtp_sessions", "SMTP connections accepted")
SMTP_SESSIONS_OPEN = Gauge("postroom_smtp_sessions_open", "SMTP connections open", multiprocess_mode="livesum")
SMTP_MESSAGES = Counter(
    "postroom_smtp_messages", "Messages at the end of DATA, by outcome (accepted, refused, failed)", ["outcome"]
)
INGEST_LATENCY = Histogram(
    "postroom_ingest_duration_seconds",
    "From the end of DATA to the SMTP reply: checking, storing and committing a message",
    buckets=LATENCY_BUCKETS,
)

DELIVERY_ATTEMPTS = Counter(
    "postroom_delivery_attempts",
    "Outbound delivery results per recipient, by outcome (delivered, temporary, permanent, rejected)",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "postroom_webhook_deliveries", "Webhook delivery attempts, by outcome (delivered, failed)", ["outcome"]
)
WEBHOOK_LATENCY = Histogram(
    "postroom_webhook_delivery_latency_seconds",
    "From the event to its webhook delivery being acknowledged",
    buckets=WEBHOOK_LATENCY_BUCKETS,
)

DATABASE_POOL_SIZE = Gauge(
    "postroom_database_pool_size",
    "Connections the database pool keeps open at most (before overflow)",
    multiprocess_mode="livesum",
)
DATABASE_CONNECTIONS_IN_USE = Gauge(
    "postroom_database_connections_in_use", "Database connections checked out of the pool", multiprocess_mode="livesum"
)
