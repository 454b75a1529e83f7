"""Engagement rules: what a like, retweet and bookmark are, who may retweet what, what a comment and an
idempotency key look like, how replies and quotes are counted, and where a list page ends. Pure: no
I/O, no grpc, no protobuf.

Likes, retweets and bookmarks are all one thing to storage: a `Mark` that an account puts on a
tweet, at most one of each kind per (account, tweet). Putting a mark that stands, or taking away
one that does not, changes nothing; that is what makes every action idempotent and keeps repeated
actions from counting twice or publishing events.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied

BATCH_LIMIT = 500
PAGE_DEFAULT, PAGE_MAX = 20, 100
COMMENT_MAX = 280


class Kind(enum.Enum):
    """The kinds of mark; each has its own rows and its own counter."""

    LIKE = "like"
    RETWEET = "retweet"  # a plain retweet; one with a comment is a quote tweet the tweet service owns
    BOOKMARK = "bookmark"  # private to its owner: never published, never shown to others


@dataclass(frozen=True)
class Mark:
    """An account's like, retweet or bookmark of a tweet.

    `seq` is the mark's Snowflake id: when it was made, its place in the lists (newest first), and
    for a retweet the retweet id that timelines order it by. `author_id` is the tweet's author as it
    was when the mark was made, kept so that taking the mark back can name the author in its event
    even after the tweet is gone.
    """

    kind: Kind
    tweet_id: int
    user_id: int
    author_id: int
    seq: int


@dataclass(frozen=True)
class Counts:
    likes: int = 0
    retweets: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0


@dataclass(frozen=True)
class TweetEngagement:
    """A tweet's counts and one viewer's own marks on it."""

    counts: Counts = Counts()
    liked: bool = False
    retweeted: bool = False
    bookmarked: bool = False


@dataclass(frozen=True)
class ChildTweet:
    """A tweet that counts for others: a reply to `reply_to_id`, a quote of `quote_id`, or both."""

    tweet_id: int
    reply_to_id: int = 0
    quote_id: int = 0

    @property
    def counts_for_others(self) -> bool:
        return self.reply_to_id > 0 or self.quote_id > 0


# --- errors and checks ----------------------------------------------------------------------------


def tweet_not_found(tweet_id: int | None = None) -> NotFound:
    return NotFound("TWEET_NOT_FOUND", "No such tweet.", {"tweet_id": str(tweet_id)} if tweet_id is not None else None)


def require_tweet_id(value: int) -> int:
    """A tweet id a caller named. Snowflake ids are positive, so no other number names a tweet: it is
    answered as an unknown tweet would be (NOT_FOUND), since hidden and missing tweets look alike."""
    if value <= 0:
        raise tweet_not_found(value)
    return value


def check_retweet(viewer_id: int, author_id: int, *, author_private: bool) -> None:
    """Whether viewer_id may retweet a tweet of author_id that it can see: not when the author is a
    private account other than the viewer, whose tweets are for approved followers only."""
    if author_private and author_id != viewer_id:
        raise PermissionDenied("PROTECTED_TWEET", "Tweets of a private account cannot be retweeted.")


def _controls(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def check_comment(comment: str) -> str:
    """A retweet's comment as given; "" means a plain retweet. Longer than 280 characters (code points
    after NFC normalisation, without surrounding whitespace, as the tweet service counts) is
    COMMENT_TOO_LONG. Everything else about the text is the tweet service's to judge."""
    if len(unicodedata.normalize("NFC", comment).strip()) > COMMENT_MAX:
        raise InvalidArgument("COMMENT_TOO_LONG", f"A comment can have at most {COMMENT_MAX} characters.",
                              {"field": "comment", "max": str(COMMENT_MAX)})
    return comment


def batch_ids(ids: Iterable[int]) -> list[int]:
    """The distinct tweet ids of a batch request, in order; at most BATCH_LIMIT."""
    distinct = list(dict.fromkeys(ids))
    if len(distinct) > BATCH_LIMIT:
        raise InvalidArgument("TOO_MANY_IDS", f"Ask about at most {BATCH_LIMIT} tweets at once.",
                              {"field": "tweet_ids"})
    return distinct


def engagement_of(counts: Mapping[int, Counts], marked: Mapping[Kind, set[int]],
                  tweet_ids: Sequence[int]) -> dict[int, TweetEngagement]:
    """Every one of tweet_ids with its counts (zeros when none) and the viewer's marks on it."""
    return {
        tweet_id: TweetEngagement(
            counts=counts.get(tweet_id, Counts()),
            liked=tweet_id in marked.get(Kind.LIKE, ()),
            retweeted=tweet_id in marked.get(Kind.RETWEET, ()),
            bookmarked=tweet_id in marked.get(Kind.BOOKMARK, ()),
        )
        for tweet_id in tweet_ids
    }


# --- pagination -----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Entry:
    """One list entry: the mark's seq and the id listed (the liker, or the bookmarked tweet).

    Lists run newest first, by (seq, id) descending, and a page resumes strictly after the last
    entry of the one before; a mark made between pages has a larger seq and so never makes a later
    page repeat or skip one.
    """

    seq: int
    id: int


@dataclass(frozen=True)
class Page:
    entries: tuple[Entry, ...]
    next: Entry | None  # where the next page resumes; None on the last page

    @classmethod
    def of(cls, rows: Sequence[Entry], limit: int) -> Page:
        """The page of `limit` entries out of up to limit + 1 read in order (an extra one says more follow)."""
        kept = tuple(rows[:limit])
        return cls(kept, kept[-1] if kept and len(rows) > limit else None)


def cursor_fields(entry: Entry) -> dict[str, int]:
    return {"s": entry.seq, "i": entry.id}


def entry_of(fields: Mapping[str, object] | None) -> Entry | None:
    """The entry a decoded cursor names, None for the first page; INVALID_CURSOR when malformed."""
    if fields is None:
        return None
    values = [fields.get(key) for key in ("s", "i")]
    if set(fields) != {"s", "i"} or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**63 for v in values):
        raise InvalidArgument("INVALID_CURSOR", "The cursor is not valid for this list; start again without one.")
    return Entry(*values)  # type: ignore[arg-type]
