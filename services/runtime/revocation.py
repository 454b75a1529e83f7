"""Revoked sessions, shared by every service through Valkey.

When a session ends early (logout, password reset, refresh-token reuse, account deletion) the user
service writes its id here with a time-to-live as long as its last access token can live. Every
service checks this on each authenticated call, so a revoked token stops working everywhere at
once, not when it expires. If Valkey cannot be asked, calls are refused (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable

import redis.asyncio as redis

from services.runtime.errors import Unavailable

_PREFIX = "chirp:revoked-session:"


class Revocations:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    async def revoke(self, session_ids: Iterable[str], ttl_s: int) -> None:
        ids = list(session_ids)
        if not ids:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for session_id in ids:
                pipe.set(_PREFIX + session_id, b"1", ex=max(ttl_s, 1))
            await pipe.execute()

    async def is_revoked(self, session_id: str) -> bool:
        try:
            return bool(await self._client.exists(_PREFIX + session_id))
        except (redis.RedisError, OSError) as exc:
            raise Unavailable("AUTH_UNAVAILABLE", "Sign-in cannot be checked right now; try again shortly.") from exc
