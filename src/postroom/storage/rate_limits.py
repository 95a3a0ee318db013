"""Request budgets shared by every process: a GCRA arrival time per key in PostgreSQL or in Redis.

Both read the time where the budget lives (the database's clock, Redis's TIME), so hosts with skewed clocks
still share one budget. One round trip per allowed hit; a refused hit costs a second one in PostgreSQL.
"""

from __future__ import annotations

import random
from typing import Any

import redis
from sqlalchemy import Engine, text

# The upsert only moves a key's arrival time when the hit fits in its window; no row back means refused.
_PG_HIT = text(
    """
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
    INSERT INTO rate_limits AS r (key, arrival)
    SELECT :key, clock.now + :interval FROM clock
    ON CONFLICT (key) DO UPDATE SET arrival = GREATEST(r.arrival, EXCLUDED.arrival - :interval) + :interval
    WHERE GREATEST(r.arrival, EXCLUDED.arrival - :interval) - (EXCLUDED.arrival - :interval) <= :slack
    RETURNING r.arrival
    """
)
_PG_WAIT = text(
    "SELECT GREATEST(arrival - extract(epoch FROM clock_timestamp())::float8, 0) FROM rate_limits WHERE key = :key"
)
_PG_FORGET = text("DELETE FROM rate_limits WHERE arrival < extract(epoch FROM clock_timestamp())::float8 - 60")
FORGET_ONE_IN = 1000  # about every thousandth hit deletes the keys whose budget is full again


class PostgresRateLimits:
    """The ``RateLimits`` port in the ``rate_limits`` table (UNLOGGED: a crash only resets budgets)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def peek(self, key: str, limit: int, window_seconds: float) -> float:
        interval = window_seconds / limit
        with self._engine.connect() as connection:
            ahead = connection.execute(_PG_WAIT, {"key": key[:200]}).scalar()
            connection.rollback()
        wait = float(ahead or 0.0) + interval - window_seconds
        return wait if wait > 1e-9 else 0.0

    def hit(self, key: str, limit: int, window_seconds: float) -> float:
        interval = window_seconds / limit
        params: dict[str, Any] = {"key": key[:200], "interval": interval, "slack": window_seconds - interval + 1e-9}
        with self._engine.connect() as connection:
            allowed = connection.execute(_PG_HIT, params).first() is not None
            wait = 0.0
            if not allowed:
                ahead = connection.execute(_PG_WAIT, {"key": params["key"]}).scalar()
                wait = max(float(ahead or 0.0) + interval - window_seconds, 1e-3)
            if random.randrange(FORGET_ONE_IN) == 0:
                connection.execute(_PG_FORGET)
            connection.commit()
        return wait


# KEYS[1]: the budget; ARGV: limit, window seconds. Returns the wait in seconds as a string ("0": allowed).
_REDIS_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[2])
local interval = window / tonumber(ARGV[1])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
arrival = arrival + interval
if arrival - now > window + 1e-9 then return tostring(arrival - now - window) end
redis.call('SET', KEYS[1], tostring(arrival), 'PX', math.ceil((arrival - now) * 1000) + 1000)
return '0'
"""
# The same arithmetic, spending nothing.
_REDIS_PEEK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[2])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
arrival = arrival + window / tonumber(ARGV[1])
if arrival - now > window + 1e-9 then return tostring(arrival - now - window) end
return '0'
"""


class RedisRateLimits:
    """The ``RateLimits`` port in Redis: one key per budget, updated by a Lua script (atomic), expiring when full."""

    def __init__(self, url: str, prefix: str = "postroom:rate:") -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._script = self._client.register_script(_REDIS_HIT)
        self._peek = self._client.register_script(_REDIS_PEEK)
        self._prefix = prefix

    def hit(self, key: str, limit: int, window_seconds: float) -> float:
        answer = self._script(keys=[self._prefix + key], args=[limit, window_seconds])
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    def peek(self, key: str, limit: int, window_seconds: float) -> float:
        answer = self._peek(keys=[self._prefix + key], args=[limit, window_seconds])
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    def close(self) -> None:
        self._client.close()
