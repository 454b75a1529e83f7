"""Hot home timelines in Valkey.

Layout:
- `home:{user_id}`: a sorted set whose every score is 0, so members sort lexicographically; each
  member is an entry key (services.timeline.domain.entry_key), which sorts as entries do. A page is
  ZREVRANGEBYLEX below the cursor's key. At most `cap` members: adds trim the oldest.
- `homebuilt:{user_id}`: "this timeline was built". A timeline with no entries has no sorted set
  (Valkey drops empty ones), so the marker, not the set, tells "built and empty" from "never built
  or expired". Both keys share one TTL, refreshed on every read and write, so the timelines of
  inactive accounts expire and are rebuilt on their next read.
- `celebs:{user_id}`: for a minute, how many accounts the user follows and which of them are
  celebrities (not fanned out; merged in on read).

Adds go through one Lua script per timeline (pipelined for a fan-out page): it touches only a
timeline that is built, so fan-out never creates a partial one; ZADD is idempotent by member, so a
redelivered or restarted fan-out never adds an entry twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis.asyncio as redis

from services.timeline.domain import Entry

# KEYS: the sorted set, the marker. ARGV: cap, ttl, then the members to add.
_ADD = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], 0, ARGV[i])
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[1]) + 1))
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""


def home_key(user_id: int) -> str:
    return f"home:{user_id}"


def built_key(user_id: int) -> str:
    return f"homebuilt:{user_id}"


def celebs_key(user_id: int) -> str:
    return f"celebs:{user_id}"


@dataclass(frozen=True)
class Followees:
    """How many accounts a user follows, and the celebrities among them."""

    count: int
    celebrities: tuple[int, ...]


class TimelineCache:
    def __init__(self, client: redis.Redis, *, cap: int, ttl_s: int, celebs_ttl_s: int) -> None:
        self._client = client
        self._cap = cap
        self._ttl_s = ttl_s
        self._celebs_ttl_s = celebs_ttl_s
        self._add = client.register_script(_ADD)

    @property
    def cap(self) -> int:
        return self._cap

    async def add(self, user_ids: Iterable[int], entries: Sequence[Entry]) -> int:
        """Adds the entries to each user's timeline that is built; returns how many timelines took them."""
        ids = list(user_ids)
        if not ids or not entries:
            return 0
        members = [e.key for e in entries]
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in ids:
                await self._add(keys=[home_key(user_id), built_key(user_id)],
                                args=[self._cap, self._ttl_s, *members], client=pipe)
            results = await pipe.execute()
        return sum(1 for r in results if r)

    async def remove(self, user_ids: Iterable[int], entry: Entry) -> None:
        ids = list(user_ids)
        if not ids:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in ids:
                pipe.zrem(home_key(user_id), entry.key)
            await pipe.execute()

    async def touch(self, user_id: int) -> bool:
        """Whether the user's timeline is built; if so its TTL starts again."""
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.expire(built_key(user_id), self._ttl_s)
            pipe.expire(home_key(user_id), self._ttl_s)
            built, _ = await pipe.execute()
        return bool(built)

    async def replace(self, user_id: int, entries: Sequence[Entry]) -> None:
        """Makes the user's timeline exactly the newest `cap` of entries, and marks it built, atomically."""
        members = sorted({e.key for e in entries}, reverse=True)[: self._cap]
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(home_key(user_id))
            if members:
                pipe.zadd(home_key(user_id), dict.fromkeys(members, 0))
                pipe.expire(home_key(user_id), self._ttl_s)
            pipe.set(built_key(user_id), b"1", ex=self._ttl_s)
            await pipe.execute()

    async def page(self, user_id: int, below: str | None, limit: int) -> list[Entry]:
        """Up to `limit` entries newest first, with keys strictly below `below` (None: from the top)."""
        top = f"({below}" if below is not None else "+"
        members = await self._client.zrevrangebylex(home_key(user_id), top, "-", start=0, num=limit)
        return [Entry.from_key(m.decode()) for m in members]

    async def forget(self, user_id: int) -> None:
        await self._client.delete(home_key(user_id), built_key(user_id), celebs_key(user_id))

    async def followees(self, user_id: int) -> Followees | None:
        raw = await self._client.get(celebs_key(user_id))
        if raw is None:
            return None
        data = json.loads(raw)
        return Followees(int(data["n"]), tuple(int(i) for i in data["c"]))

    async def set_followees(self, user_id: int, followees: Followees) -> None:
        value = json.dumps({"n": followees.count, "c": list(followees.celebrities)})
        await self._client.set(celebs_key(user_id), value, ex=self._celebs_ttl_s)

    async def forget_followees(self, user_id: int) -> None:
        await self._client.delete(celebs_key(user_id))
