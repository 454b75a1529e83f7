"""Events the engagement service consumes: chirp.tweet.created and chirp.tweet.deleted keep the reply
and quote counters, on one durable consumer so that a tweet's two events are handled in order."""

from __future__ import annotations

from chirp.tweet.v1 import events_pb2 as tweet_events_pb2
from services.engagement.domain import ChildTweet
from services.engagement.store.base import EngagementStore
from services.runtime.events import Delivery, subject
from services.runtime.logging import get_logger

log = get_logger("chirp.engagement.consumers")

TWEET_EVENTS_DURABLE = "engagement-tweets"
TWEET_EVENTS_SUBJECT = subject("tweet", ">")
CREATED, DELETED = subject("tweet", "created"), subject("tweet", "deleted")


class TweetEventsHandler:
    """Counts replies and quotes as they are posted and deleted.

    Idempotent, keyed by the child tweet's id: the store records each reply or quote it counted, so
    a redelivered event, or a creation that arrives after its deletion, changes nothing. Other tweet
    events (poll votes) are acknowledged and ignored. Publishes nothing.
    """

    def __init__(self, store: EngagementStore) -> None:
        self._store = store

    async def __call__(self, delivery: Delivery) -> None:
        if delivery.subject == CREATED:
            created = delivery.decode(tweet_events_pb2.TweetCreated)
            assert isinstance(created, tweet_events_pb2.TweetCreated)
            tweet = created.tweet
            child = ChildTweet(tweet.id, tweet.reply_to_tweet_id, tweet.quote_tweet_id)
            if child.counts_for_others and await self._store.count_created(child):
                log.info("reply or quote counted", tweet_id=child.tweet_id)
        elif delivery.subject == DELETED:
            deleted = delivery.decode(tweet_events_pb2.TweetDeleted)
            assert isinstance(deleted, tweet_events_pb2.TweetDeleted)
            child = ChildTweet(deleted.tweet_id, deleted.reply_to_tweet_id, deleted.quote_tweet_id)
            if child.counts_for_others and await self._store.count_deleted(child):
                log.info("reply or quote uncounted", tweet_id=child.tweet_id)
