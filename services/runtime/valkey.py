"""Valkey (Redis protocol) connections for hot data: timelines, caches, rate limits, revocations."""

from __future__ import annotations

import redis.asyncio as redis

# What a request waits for a pooled connection, or for a command's answer, before the call fails
# (and the request gets UNAVAILABLE): long enough to ride out a burst, short enough not to hang.
WAIT_S = 2.0


def connect(url: str, *, max_connections: int = 64) -> redis.Redis:
    """A pooled client. Past `max_connections` in use, a command waits for one to come free (up to
    WAIT_S) rather than failing at once, so a burst of requests queues instead of erroring; a
    server that is down or slow fails the command within WAIT_S instead of hanging a request."""
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=WAIT_S,
        socket_connect_timeout=WAIT_S,
        socket_timeout=WAIT_S,
        health_check_interval=30,
        decode_responses=False,
    )
    return redis.Redis.from_pool(pool)  # the client owns the pool: closing it disconnects them all
