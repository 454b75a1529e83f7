"""The engagement store port: what the engagement service needs from storage, shaped per query.

Every read names one partition key and, where it asks about several tweets, clusters them inside
it, so a wide-column adapter (ScyllaDB) serves each with one table per query:

| read                                   | table               | partition | clustering                  |
|----------------------------------------|---------------------|-----------|-----------------------------|
| likers of a tweet (page)               | likes_by_tweet      | tweet id  | seq DESC, user id DESC      |
| did a viewer like these tweets         | likes_by_user       | user id   | tweet id (IN)               |
| retweeters of a tweet                  | retweets_by_tweet   | tweet id  | seq DESC, user id DESC      |
| did a viewer retweet these tweets      | retweets_by_user    | user id   | tweet id (IN)               |
| an account's bookmarks (page)          | bookmarks_by_user   | user id   | seq DESC, tweet id DESC     |
| did a viewer bookmark these tweets     | bookmark_flags      | user id   | tweet id (IN)               |
| a tweet's counts                       | engagement_counts   | tweet id  | (counter columns)           |
| replies and quotes counted already     | counted_tweets      | child id  | -                           |

The `*_by_user` and `bookmark_flags` rows hold the mark's seq and the tweet's author id; the
`*_by_tweet` and `bookmarks_by_user` rows are its listing copies. `engagement_counts` is a counter
table with likes, retweets, replies, quotes and bookmarks columns, never a COUNT over rows. The
ScyllaDB adapter adds bookmarks_by_tweet, replies_by_parent and quotes_by_parent (for its recount
repair) and open_intents (to finish a change whose writer died after its decision).

Marks are written by `add` and `remove`, each ONE atomic unit with its counter and its events.
SQLite: one transaction. ScyllaDB: a lightweight transaction on the `*_by_user` row decides
(`INSERT ... IF NOT EXISTS` to add, `DELETE ... IF seq = <the seq read>` to remove, so the remover
knows exactly which mark it took), so two concurrent likes by
the same account cannot both count; only when it applied does a logged batch write the listing
row and the outbox rows, and then the counter moves by one in its own counter batch (counters
cannot join a logged batch). Adding what stands or removing what does not must change nothing:
no row, no counter, no event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from services.engagement.domain import ChildTweet, Entry, Kind, Mark, Page, TweetEngagement
from services.runtime.events import OutgoingEvent

Publisher = Callable[[Mark], Sequence[OutgoingEvent]]
"""Makes the events that report a mark added or removed; [] when nobody is told (bookmarks)."""


@dataclass(frozen=True)
class Added:
    """What `add` leaves standing: the mark (the earlier one when there was one), and whether this
    call made it."""

    mark: Mark
    created: bool


class EngagementStore(Protocol):
    async def add(self, mark: Mark, publish: Publisher) -> Added:
        """Puts `mark` unless its account has a mark of that kind on that tweet already.

        When it puts it: the mark's rows, its counter + 1 and the events `publish(mark)` makes, all
        together or not at all. Otherwise nothing is written and the standing mark is returned, with
        its own seq (a repeated retweet keeps its first retweet id).
        """

    async def remove(self, kind: Kind, tweet_id: int, user_id: int, publish: Publisher) -> Mark | None:
        """Takes away user_id's mark of `kind` on tweet_id, with its rows, counter - 1 and the events
        `publish(removed)` makes, all together. Returns the removed mark, or None (and writes
        nothing) when there was none."""

    async def load_marks(self, marks: Sequence[Mark]) -> int:
        """The bulk path, for loading a corpus (a migration, a benchmark's dataset): puts each mark as
        `add` would, rows and counter, but with no events; a mark whose account has one of its kind
        on that tweet already is skipped. Returns how many it put; loading again puts nothing. It
        loads into a store that has not seen those marks: one removed since its first load (an
        unlike) is put back, since no tombstone of it is kept.
        SQLite: one transaction per call. ScyllaDB: `add`'s own path, many in flight."""

    async def load_children(self, children: Sequence[ChildTweet]) -> int:
        """The bulk path of `count_created`: records each reply or quote not recorded yet and counts
        it on its parents. Returns how many it recorded. SQLite: one transaction per call.
        ScyllaDB: `count_created`'s own path, many in flight."""

    async def engagement(self, viewer_id: int, tweet_ids: Iterable[int]) -> dict[int, TweetEngagement]:
        """Each of tweet_ids with its counters (zeros when none) and whether viewer_id liked,
        retweeted and bookmarked it (all false for viewer 0). Every id is answered; one read of the
        counters and one of each of the viewer's three flag partitions, however many ids."""

    async def likers(self, tweet_id: int, after: Entry | None, limit: int) -> Page:
        """The accounts that like tweet_id (Entry.id is the account), most recent like first,
        starting after `after`."""

    async def bookmarks(self, user_id: int, after: Entry | None, limit: int) -> Page:
        """The tweets user_id bookmarked (Entry.id is the tweet), most recent first, starting after
        `after`."""

    async def count_created(self, child: ChildTweet) -> bool:
        """A reply or quote was posted: records it in counted_tweets and adds one to the replies
        counter of child.reply_to_id and the quotes counter of child.quote_id (whichever are set),
        together. Returns False, and writes nothing, when the child is recorded already, live or
        deleted: a redelivered event, or a creation reported after its deletion, counts nothing.
        ScyllaDB: INSERT ... IF NOT EXISTS on counted_tweets decides, then the counters."""

    async def count_deleted(self, child: ChildTweet) -> bool:
        """A reply or quote was deleted: marks it deleted and, when it was counted live, subtracts
        the one it added, together; returns whether counters moved. A child not recorded yet is
        recorded deleted (a tombstone), so its creation, reported late, counts nothing.
        ScyllaDB: UPDATE counted_tweets ... IF deleted = false (or INSERT ... IF NOT EXISTS for the
        tombstone) decides, then the counters."""

    async def close(self) -> None: ...
