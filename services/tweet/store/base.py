"""The tweet store port: what the tweet service needs from storage, one query per partition.

Every read names one partition key (or a short, bounded run of them), so a wide-column adapter
(ScyllaDB) serves each with one table per query:

| query                                   | table (ScyllaDB)          | partition                 | clustering          |
|-----------------------------------------|---------------------------|---------------------------|---------------------|
| get_tweets                              | tweets_by_id              | tweet id                  | -                   |
| user_tweets (a user's tweets, by time)  | tweets_by_user            | (author id, month bucket) | tweet id DESC       |
| replies (direct replies in a thread)    | replies_by_conversation   | conversation id           | (reply_to id, id) ASC |
| recent_tweets (cold start)              | tweets_by_hour            | hour bucket               | tweet id DESC       |
| idempotency keys                        | tweet_idempotency         | (author id, key)          | -                   |
| viewer_votes / vote                     | poll_votes                | (tweet id, voter id)      | -                   |
| poll counts (filled into Tweet.poll)    | poll_counts (counters)    | tweet id                  | option index        |

Buckets come from the tweet's Snowflake id (ids sort by time): `month_bucket` and `hour_bucket`
below are the adapters' one definition of them. An adapter that walks buckets (user_tweets,
recent_tweets) goes from the newest bucket its range allows to the oldest, and stops once it has
`limit` tweets or passed the range's lower bound (for user_tweets without one: the bucket of
`EPOCH_MS`, the first any Snowflake id can be in).

Deleted tweets (by their author) and hidden ones (their author's account was deleted) stay stored,
so a delete can be repeated and a retried create still finds its key, but no read returns them
unless it says so (`get_tweets(..., include_gone=True)`). Filtering them is the adapter's job on
every read: a page of `limit` holds `limit` live tweets whenever that many exist in its range.

Every write that others must hear about takes the events to stage with it; the change and its
events are written as ONE atomic unit (SQLite: one transaction; ScyllaDB: one logged batch with
the outbox rows of services/runtime/scylla.py, counters in their own batch once the rows are in,
and the conditions below as lightweight transactions). Events are staged only when the write
changed something: a call that finds its work already done stages nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from services.runtime.events import OutgoingEvent
from services.runtime.ids import timestamp_ms
from services.tweet.domain import Tweet

def month_bucket(tweet_id: int) -> int:
    """The tweets_by_user bucket of a tweet: its UTC year and month as YYYYMM (e.g. 202607)."""
    moment = datetime.fromtimestamp(timestamp_ms(tweet_id) / 1000, UTC)
    return moment.year * 100 + moment.month


def hour_bucket(tweet_id: int) -> int:
    """The tweets_by_hour bucket of a tweet: whole hours since the Unix epoch, UTC."""
    return timestamp_ms(tweet_id) // 3_600_000


@dataclass(frozen=True)
class Created:
    """What create_tweet did: `tweet` is the new tweet, or the one an earlier call with the same
    idempotency key made (then `created` is False and nothing was written)."""

    tweet: Tweet
    created: bool


class TweetStore(Protocol):
    async def create_tweet(
        self, tweet: Tweet, idempotency_key: str, events: Sequence[OutgoingEvent]
    ) -> Created:
        """Stores a new tweet with its events, and its idempotency key when one is given, atomically.

        Writes the tweet to every table that serves it (by id; by its author and month; by
        conversation when it is a reply; by hour) and, for a poll, zero counts. With a non-empty
        `idempotency_key`, the key (author_id, key) is claimed in the same unit (ScyllaDB: INSERT ...
        IF NOT EXISTS first); when it was claimed already, by an earlier or a concurrent call,
        nothing is written and the tweet that claimed it is returned with created=False, even
        when that tweet has been deleted since. Keys are kept at least a day.
        """

    async def load_tweets(self, tweets: Sequence[Tweet]) -> int:
        """The bulk path, for loading a corpus (a migration, a benchmark's dataset): stores each
        tweet whose id is not stored yet, in every table that serves it and in its author's count,
        as create_tweet would, but with no idempotency key and no events. Returns how many it
        stored; loading the same tweets again stores and counts nothing. Whoever derives data from
        tweet events (engagement's reply counts, timelines) is loaded through its own bulk path.
        SQLite: one transaction per call. ScyllaDB: a read of each id, then each new tweet's rows
        in a logged batch and, once they are in, its author's counter, many in flight, as
        create_tweet does; a load that fails part way is run again (stored tweets are skipped),
        and a counter update that failed is repaired by recount_tweet_counts."""

    async def tweet_for_key(self, author_id: int, idempotency_key: str) -> Tweet | None:
        """The tweet (live or gone) an earlier create by author_id made with this key, or None."""

    async def get_tweets(self, tweet_ids: Iterable[int], *, include_gone: bool = False) -> dict[int, Tweet]:
        """The tweets among tweet_ids, by id, with each poll's current counts (zeros for options
        nobody voted for). Unknown ids are left out; so are deleted and hidden tweets unless
        `include_gone`, which returns them with deleted_at_ms or hidden set."""

    async def user_tweets(self, author_id: int, *, since_id: int, until_id: int, limit: int) -> list[Tweet]:
        """Up to `limit` live tweets of an author (replies and quotes included), the newest first,
        with since_id < id < until_id; a bound of 0 is no bound."""

    async def replies(self, conversation_id: int, parent_id: int, *, after_id: int, limit: int) -> list[Tweet]:
        """Up to `limit` live direct replies to parent_id (a tweet of conversation_id), the oldest
        first, with id > after_id."""

    async def recent_tweets(self, *, since_id: int, limit: int) -> list[Tweet]:
        """Up to `limit` live tweets of anyone with id > since_id, the newest first."""

    async def delete_tweet(
        self, tweet_id: int, author_id: int, deleted_at_ms: int, events: Sequence[OutgoingEvent]
    ) -> bool:
        """Marks author_id's live tweet deleted, with its events, atomically. Returns False, and
        writes nothing, when the tweet is unknown, not author_id's, or deleted or hidden already.
        The rows stay (a soft delete): reads leave them out from now on."""

    async def viewer_votes(self, voter_id: int, tweet_ids: Iterable[int]) -> dict[int, int]:
        """The option index voter_id voted for in each of tweet_ids' polls, by tweet id; tweets the
        voter did not vote in are left out."""

    async def vote(
        self, tweet_id: int, voter_id: int, option_index: int, events: Sequence[OutgoingEvent]
    ) -> int:
        """Records one vote per (tweet, voter), atomically: when the voter has not voted in this
        poll, stores the vote, adds one to the option's count and stages the events (ScyllaDB:
        INSERT ... IF NOT EXISTS, then the counter). Returns the option the voter's vote stands for
        afterwards: option_index when this call voted, else the earlier vote's option (and nothing
        was written). The caller has checked that the tweet is live, has a poll with that option,
        and that the poll is open."""

    async def hide_author_tweets(self, author_id: int, limit: int) -> int:
        """Hides up to `limit` of the author's tweets that are neither hidden nor deleted (the
        account was deleted); returns how many it hid, 0 once none is left. Idempotent. Stages no
        events: consumers learn of the deletion from chirp.user.deleted."""

    async def tweet_counts(self, author_ids: Iterable[int]) -> dict[int, int]:
        """Live tweets per author, from a counter kept with every create and delete (not a count
        query); every asked id is in the answer, 0 when it has none. ScyllaDB: a counter table
        tweet_counts_by_author (author_id PRIMARY KEY, live counter)."""

    async def close(self) -> None: ...
