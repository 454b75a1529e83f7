"""Events the timeline service consumes, each through a durable JetStream consumer:

| durable                   | stream           | subject                     | does                                   |
|---------------------------|------------------|-----------------------------|----------------------------------------|
| timeline-fanout           | CHIRP_TWEET      | chirp.tweet.created         | fans the tweet out                     |
| timeline-tweet-deleted    | CHIRP_TWEET      | chirp.tweet.deleted         | takes it back out                      |
| timeline-retweets         | CHIRP_ENGAGEMENT | chirp.engagement.>          | fans retweets out, takes undone ones out (in order, one consumer); likes are skipped |
| timeline-follows          | CHIRP_GRAPH      | chirp.graph.followed        | backfills the follower's home timeline |
| timeline-user-deleted     | CHIRP_USER       | chirp.user.deleted          | drops the account's timelines          |

Handlers are idempotent (delivery is at least once). An event that cannot be decoded, or names no
tweet or account, raises PoisonEvent: DurableConsumer dead-letters it at once and moves on.
"""

from __future__ import annotations

from dataclasses import dataclass

from chirp.engagement.v1 import events_pb2 as engagement_events_pb2
from chirp.graph.v1 import events_pb2 as graph_events_pb2
from chirp.tweet.v1 import events_pb2 as tweet_events_pb2
from chirp.user.v1 import events_pb2 as user_events_pb2
from services.runtime.events import Delivery, Handler, PoisonEvent, stream_name, subject
from services.timeline import domain
from services.timeline.fanout import Fanout


@dataclass(frozen=True)
class Consumption:
    """One durable consumer the app runs: where it reads and who handles what it reads."""

    durable: str
    stream: str
    filter_subject: str
    handler: Handler


def _require(*ids: int) -> None:
    if not all(domain.is_valid_entry_id(i) for i in ids):
        raise PoisonEvent(f"the event names no valid id: {ids}")


class TimelineHandlers:
    def __init__(self, fanout: Fanout) -> None:
        self._fanout = fanout

    async def tweet_created(self, delivery: Delivery) -> None:
        event = delivery.decode(tweet_events_pb2.TweetCreated)
        assert isinstance(event, tweet_events_pb2.TweetCreated)
        _require(event.tweet.id, event.tweet.author_id)
        await self._fanout.deliver(domain.tweet_entry(event.tweet.id, event.tweet.author_id))

    async def tweet_deleted(self, delivery: Delivery) -> None:
        event = delivery.decode(tweet_events_pb2.TweetDeleted)
        assert isinstance(event, tweet_events_pb2.TweetDeleted)
        _require(event.tweet_id, event.author_id)
        await self._fanout.retract(domain.tweet_entry(event.tweet_id, event.author_id))

    async def engagement(self, delivery: Delivery) -> None:
        if delivery.subject == subject("engagement", "retweeted"):
            event = delivery.decode(engagement_events_pb2.Retweeted)
            retract = False
        elif delivery.subject == subject("engagement", "unretweeted"):
            event = delivery.decode(engagement_events_pb2.Unretweeted)
            retract = True
        else:
            return  # likes and the like do not touch timelines
        assert isinstance(event, engagement_events_pb2.Retweeted | engagement_events_pb2.Unretweeted)
        _require(event.retweet_id, event.tweet_id, event.user_id, event.tweet_author_id)
        entry = domain.retweet_entry(event.retweet_id, event.tweet_id, event.tweet_author_id, event.user_id)
        await (self._fanout.retract(entry) if retract else self._fanout.deliver(entry))

    async def followed(self, delivery: Delivery) -> None:
        event = delivery.decode(graph_events_pb2.Followed)
        assert isinstance(event, graph_events_pb2.Followed)
        _require(event.follower_id, event.followed_id)
        await self._fanout.backfill(event.follower_id, event.followed_id)

    async def user_deleted(self, delivery: Delivery) -> None:
        event = delivery.decode(user_events_pb2.UserDeleted)
        assert isinstance(event, user_events_pb2.UserDeleted)
        _require(event.user_id)
        await self._fanout.forget(event.user_id)

    def consumptions(self) -> list[Consumption]:
        return [
            Consumption("timeline-fanout", stream_name("tweet"), subject("tweet", "created"), self.tweet_created),
            Consumption("timeline-tweet-deleted", stream_name("tweet"), subject("tweet", "deleted"),
                        self.tweet_deleted),
            Consumption("timeline-retweets", stream_name("engagement"), "chirp.engagement.>", self.engagement),
            Consumption("timeline-follows", stream_name("graph"), subject("graph", "followed"), self.followed),
            Consumption("timeline-user-deleted", stream_name("user"), subject("user", "deleted"), self.user_deleted),
        ]
