"""Valkey (Redis protocol) connections for hot data: timelines, caches, rate limits, revocations."""

from __future__ import annotations

import redis.asyncio as redis


def connect(url: str, *, max_connections: int = 64) -> redis.Redis:
    """A pooled client. Commands fail fast (2 s) instead of hanging a request on a dead server."""
    return redis.Redis.from_url(
        url,
        max_connections=max_connections,
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=30,
        decode_responses=False,
    )
