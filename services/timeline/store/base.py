"""The timeline store port: the persisted copy of every home timeline and the index of each account's
own tweets and retweets, shaped for one-partition reads.

| table          | partition            | clustering      | holds                                         |
|----------------|----------------------|-----------------|-----------------------------------------------|
| home_timeline  | user id (the reader) | entry key DESC  | what fan-out delivered to the reader, with TTL |
| user_timeline  | user id (the owner)  | entry key DESC  | the owner's tweets and retweets                |

Entry keys sort as entries do (see services.timeline.domain), so "newest first, below a position" is
one clustering-range read of one partition. Writes are idempotent: adding an entry twice stores it
once, removing what is not there succeeds, so a redelivered event or a fan-out repeated after a crash
changes nothing. home_timeline rows expire after the retention time (ScyllaDB: the table's TTL; the
embedded adapter: a created-at column and purge_expired()); the cache is rebuilt from what remains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.timeline.domain import Entry

HomeRow = tuple[int, Entry]
"""(reader id, entry): one entry of one reader's home timeline."""


class TimelineStore(Protocol):
    async def add_home_entries(self, rows: Sequence[HomeRow]) -> None:
        """Adds entries to home timelines in one batch (a fan-out page, a rebuild); present ones stay as they are."""

    async def remove_home_entries(self, rows: Sequence[HomeRow]) -> None:
        """Removes entries from home timelines in one batch; absent ones are no error."""

    async def home_entries(self, user_id: int, below: str | None, limit: int) -> list[Entry]:
        """Up to `limit` entries of user_id's home timeline, newest first, with keys below `below` (None: from the top)."""

    async def add_user_entry(self, entry: Entry) -> None:
        """Indexes an entry in its owner's user timeline (the retweeter's for a retweet, else the author's)."""

    async def add_user_entries(self, entries: Sequence[Entry]) -> None:
        """Indexes many entries, each in its owner's user timeline, in batches (the bulk path for
        loading a corpus); present ones stay as they are, removed ones are put back."""

    async def remove_user_entry(self, entry: Entry) -> None:
        """Removes an entry from its owner's user timeline; absent is no error."""

    async def user_entries(self, user_id: int, below: str | None, limit: int) -> list[Entry]:
        """Up to `limit` entries of user_id's user timeline, newest first, with keys below `below`."""

    async def latest_user_entries(self, user_ids: Sequence[int], limit: int) -> dict[int, list[Entry]]:
        """The newest `limit` entries of each of user_ids' user timelines, newest first, with their
        authors: what `user_entries(user_id, None, limit)` returns for each, in one call (a home
        timeline rebuild reads one partition per followee). Every distinct requested id is a key of
        the answer, an account with no entries mapping to []; `limit` >= 1; no id is an error.
        Adapters read the partitions concurrently or in one round trip, never one after another
        from the caller."""

    async def forget_user(self, user_id: int) -> None:
        """Drops a deleted account's home timeline and user timeline (two partitions)."""

    async def purge_expired(self) -> int:
        """Removes home entries older than the retention time; returns how many (0 where TTLs do it)."""

    async def close(self) -> None: ...
