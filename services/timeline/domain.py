"""Timeline rules: what an entry is and how entries sort, where a page starts and ends, how candidate
windows from several sources merge, and which hydrated entries a viewer is shown. Pure: no I/O, no
grpc, no protobuf.

An entry is (entry_id, tweet_id, author_id, retweeter_id). An original tweet's entry_id is the tweet
id and its retweeter_id is 0; a retweet's entry_id is the retweet's own Snowflake id, so a retweet
sorts at the time it was made. Entry ids are Snowflakes: sorting entries by id sorts them by time.

An entry's key, f"{entry_id:020d}:{tweet_id}:{retweeter_id}", sorts lexicographically exactly as
the entries sort, which is what the cache (a sorted set ordered by member) and the store (clustered
by key, descending) rely on. The author is not part of the key: the cache does not keep it, and
reads learn it from the tweet itself.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied

CAP = 800  # entries a materialised home timeline keeps
FILTERS = ("", "media", "replies", "retweets")
PAGE_DEFAULT, PAGE_MAX = 20, 100
WINDOW_MAX = 100  # candidates hydrated at once
SCAN_WINDOWS = 10  # windows a page may read ahead while filtering leaves it short
SEEN_MAX = 100  # retweeted tweet ids a cursor remembers, to keep them off later pages
BATCH_LIMIT = 500  # ids per batch call to another service

_KEY = re.compile(r"^(\d{20}):(\d{1,19}):(\d{1,19})$")


# --- entries --------------------------------------------------------------------------------------


def entry_key(entry_id: int, tweet_id: int, retweeter_id: int = 0) -> str:
    return f"{entry_id:020d}:{tweet_id}:{retweeter_id}"


@dataclass(frozen=True)
class Entry:
    """One timeline entry. author_id is 0 when unknown (an entry read back from the cache)."""

    entry_id: int
    tweet_id: int
    retweeter_id: int = 0
    author_id: int = 0

    @functools.cached_property
    def key(self) -> str:
        # Kept once made: merging, sorting and taking a window read it several times an entry.
        return entry_key(self.entry_id, self.tweet_id, self.retweeter_id)

    @property
    def is_retweet(self) -> bool:
        return self.retweeter_id != 0

    @property
    def owner_id(self) -> int:
        """Whose user timeline the entry belongs to: the retweeter's for a retweet, else the author's."""
        return self.retweeter_id or self.author_id

    @classmethod
    def from_key(cls, key: str, author_id: int = 0) -> Entry:
        match = _KEY.match(key)
        if match is None:
            raise ValueError(f"not an entry key: {key!r}")
        return cls(int(match[1]), int(match[2]), int(match[3]), author_id)


def tweet_entry(tweet_id: int, author_id: int) -> Entry:
    return Entry(tweet_id, tweet_id, 0, author_id)


def retweet_entry(retweet_id: int, tweet_id: int, author_id: int, retweeter_id: int) -> Entry:
    return Entry(retweet_id, tweet_id, retweeter_id, author_id)


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """The distinct entries (by key), newest first; an entry with a known author wins over one without."""
    by_key: dict[str, Entry] = {}
    for entry in entries:
        if entry.key not in by_key or not by_key[entry.key].author_id:
            by_key[entry.key] = entry
    return [by_key[key] for key in sorted(by_key, reverse=True)]


def is_valid_entry_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


# --- merging windows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """What one source answered for a window: its entries newest first, and whether it has more below."""

    entries: Sequence[Entry]
    more: bool


@dataclass(frozen=True)
class Window:
    entries: tuple[Entry, ...]
    exhausted: bool  # no source has anything below the window's last entry


def merge_window(batches: Sequence[Batch], size: int) -> Window:
    """The newest `size` entries of several sources, each answered newest first below one position.

    A source that has more may hold entries between its last answered one and the others' entries,
    so nothing below the highest such "frontier" is taken: the window never skips an entry, and the
    next window, read below the window's last entry, continues where this one ends.
    """
    merged = newest_first(e for batch in batches for e in batch.entries)
    frontiers = [batch.entries[-1].key for batch in batches if batch.more and batch.entries]
    if frontiers:
        frontier = max(frontiers)
        merged = [e for e in merged if e.key >= frontier]
    taken = tuple(merged[:size])
    exhausted = not frontiers and len(merged) <= size
    return Window(taken, exhausted)


@dataclass(frozen=True)
class Taken:
    entries: tuple[Entry, ...]  # the entries shown, newest first
    last_key: str | None  # the key of the last candidate consumed; None when none was
    more_in_window: bool  # candidates of the window were left unconsumed


def take(window: Sequence[Entry], kept: Mapping[str, int], wanted: int, seen: set[int]) -> Taken:
    """Walks a window newest first, taking each kept entry (its key maps to its tweet id) whose tweet
    was not shown yet, until `wanted` are taken. A tweet that several entries bring (retweeted by
    several accounts, or posted and retweeted) is shown once, by its newest kept entry. `seen` is
    updated with the tweets taken."""
    taken: list[Entry] = []
    last_key: str | None = None
    for entry in window:
        if len(taken) == wanted:
            return Taken(tuple(taken), last_key, True)
        last_key = entry.key
        tweet_id = kept.get(entry.key)
        if tweet_id is not None and tweet_id not in seen:
            seen.add(tweet_id)
            taken.append(entry)
    return Taken(tuple(taken), last_key, False)


def window_size(limit: int) -> int:
    """Candidates hydrated per window for a page of `limit`: a few spare for what filtering drops."""
    return min(WINDOW_MAX, limit + max(5, limit // 2))


# --- positions (cursors) --------------------------------------------------------------------------


def _invalid_cursor() -> InvalidArgument:
    return InvalidArgument("INVALID_CURSOR", "The cursor is not valid for this list; start again without one.")


@dataclass(frozen=True)
class Position:
    """Where a page ended: the key of the last candidate it consumed, and the retweeted tweets shown
    so far that could still turn up again below it (so a tweet retweeted by several accounts is
    shown once across pages too). The next page holds candidates strictly below `key`."""

    key: str
    seen: tuple[int, ...] = ()

    def to_fields(self) -> dict[str, object]:
        fields: dict[str, object] = {"k": self.key}
        if self.seen:
            fields["s"] = list(self.seen)
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[str, object]) -> Position:
        key, seen = fields.get("k"), fields.get("s", [])
        if set(fields) - {"k", "s"} or not isinstance(key, str) or not _KEY.match(key):
            raise _invalid_cursor()
        if not isinstance(seen, list) or len(seen) > SEEN_MAX or not all(is_valid_entry_id(i) for i in seen):
            raise _invalid_cursor()
        return cls(key, tuple(seen))  # type: ignore[arg-type]

    @property
    def entry_id(self) -> int:
        return Entry.from_key(self.key).entry_id


def carried_seen(seen: Iterable[int], position_key: str) -> tuple[int, ...]:
    """The tweet ids worth carrying to the next page: every entry of a tweet has an id at least the
    tweet's own, so only tweets older than the position can appear again below it. The newest
    SEEN_MAX are kept."""
    bound = Entry.from_key(position_key).entry_id
    kept = [tweet_id for tweet_id in dict.fromkeys(seen) if tweet_id < bound]
    return tuple(kept[-SEEN_MAX:])


# --- who sees what --------------------------------------------------------------------------------


class Policy(enum.Enum):
    """Which relationships an entry must pass to be shown, by the kind of list."""

    HOME = "home"  # followed authors and retweeters, or the viewer; nobody muted or blocked either way
    PROFILE = "profile"  # one account's own list: only what the tweet service lets the viewer see
    SUGGESTION = "suggestion"  # popular tweets: nobody muted or blocked either way


@dataclass(frozen=True)
class Relation:
    """How the viewer stands towards an account, as far as timelines care."""

    following: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False


NO_RELATION = Relation()


HIDDEN_BLOCKED = "blocked_or_muted"  # the author or retweeter is muted, blocked, or blocks the viewer
HIDDEN_UNFOLLOWED = "not_followed"  # home: brought by an account the viewer does not follow (any more)


def hidden_because(policy: Policy, viewer: int, entry: Entry, author_id: int,
                   relations: Mapping[int, Relation]) -> str | None:
    """Why the viewer is not shown an entry (whose tweet the tweet service already let them see),
    or None when it is shown."""
    if policy is Policy.PROFILE:
        return None

    def rel(user_id: int) -> Relation:
        return relations.get(user_id, NO_RELATION)

    def hidden(user_id: int) -> bool:
        r = rel(user_id)
        return user_id != viewer and (r.blocking or r.blocked_by or r.muting)

    if hidden(author_id) or (entry.is_retweet and hidden(entry.retweeter_id)):
        return HIDDEN_BLOCKED
    if policy is Policy.SUGGESTION:
        return None
    brought_by = entry.retweeter_id if entry.is_retweet else author_id
    return None if brought_by == viewer or rel(brought_by).following else HIDDEN_UNFOLLOWED


def shown(policy: Policy, viewer: int, entry: Entry, author_id: int, relations: Mapping[int, Relation]) -> bool:
    """Whether the viewer is shown an entry (whose tweet the tweet service already let them see)."""
    return hidden_because(policy, viewer, entry, author_id, relations) is None


def check_filter(value: str) -> str:
    if value not in FILTERS:
        raise InvalidArgument("INVALID_FILTER", 'filter must be "", "media", "replies" or "retweets".',
                              {"field": "filter"})
    return value


def passes_filter(value: str, entry: Entry, *, has_media: bool, is_reply: bool) -> bool:
    if value == "media":
        return has_media
    if value == "replies":
        return is_reply
    if value == "retweets":
        return entry.is_retweet
    return True


# --- accounts -------------------------------------------------------------------------------------


def user_not_found(user_id: int | None = None) -> NotFound:
    return NotFound("USER_NOT_FOUND", "No such user.", {"user_id": str(user_id)} if user_id is not None else None)


def require_user_id(value: int, field: str = "user_id") -> int:
    if value <= 0:
        raise InvalidArgument("INVALID_USER_ID", f"{field} must be a user id (a positive number).", {"field": field})
    return value


def check_profile_access(viewer: int, owner: int, *, exists: bool, private: bool, relation: Relation) -> None:
    """Whether the viewer may read owner's user timeline."""
    if not exists or relation.blocking or relation.blocked_by:
        raise user_not_found(owner)
    if private and viewer != owner and not relation.following:
        raise PermissionDenied("PRIVATE_ACCOUNT", "This account is private: only its approved followers see its tweets.")


def is_celebrity(followers: int, threshold: int) -> bool:
    """Authors with more followers than the threshold are not fanned out: their tweets merge in on read."""
    return followers > threshold


def chunks(ids: Sequence[int], size: int = BATCH_LIMIT) -> list[list[int]]:
    return [list(ids[start:start + size]) for start in range(0, len(ids), size)]
