"""The loopback Redis the shared rate limit tests use (started by ``make test-tools``), one fresh db prefix per test."""

from __future__ import annotations

import os
import secrets

import pytest
import redis

REDIS_URL = os.environ.get("POSTROOM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_url() -> str:
    """The test Redis URL; fails (never skips) when it is not running, so a missing service cannot hide."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error}); `make test-tools` starts it")
    return REDIS_URL


def fresh_prefix() -> str:
    return f"postroom-test:{secrets.token_hex(6)}:"
