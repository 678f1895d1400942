import os

import pytest
import redis
from django.db import connection

REDIS = "redis://127.0.0.1:6379"


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent transactions: run with DATABASE_URL=postgres://...",
)

postgres_pass = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="runs in the PostgreSQL pass of the suite (DATABASE_URL=postgres://...)",
)


def redis_reachable(url: str = REDIS) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


# Skipped on a laptop without Redis; under CI=true a missing Redis fails the test.
needs_redis = pytest.mark.skipif(
    not redis_reachable() and os.environ.get("CI") != "true",
    reason="needs Redis on 127.0.0.1:6379 (required under CI=true)",
)
