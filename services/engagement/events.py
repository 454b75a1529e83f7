"""What the engagement service publishes: the events of engagement/v1/events.proto, made from marks.

Each goes out on chirp.engagement.<event> through the outbox, in the transaction of the change it
reports, and only when something changed. Bookmarks are private and publish nothing. An event's id
is derived from what it reports and the Snowflake id of the action, so a change staged twice would
still reach consumers once (JetStream drops a repeated Nats-Msg-Id).
"""

from __future__ import annotations

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from chirp.engagement.v1 import events_pb2
from services.engagement.domain import Kind, Mark
from services.runtime.events import OutgoingEvent, subject
from services.runtime.ids import timestamp_ms

DOMAIN = "engagement"


def occurred_at(seq: int) -> timestamp_pb2.Timestamp:
    """The time a Snowflake id was made at."""
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(timestamp_ms(seq))
    return ts


def _event(name: str, message: Message, mark: Mark, seq: int) -> list[OutgoingEvent]:
    event_id = f"{DOMAIN}.{name}:{mark.tweet_id}:{mark.user_id}:{seq}"
    return [OutgoingEvent.of(subject(DOMAIN, name), message, event_id=event_id)]


def added(mark: Mark) -> list[OutgoingEvent]:
    """The events that report a new mark: Liked or Retweeted; none for a bookmark."""
    at = occurred_at(mark.seq)
    if mark.kind is Kind.LIKE:
        return _event("liked", events_pb2.Liked(
            tweet_id=mark.tweet_id, user_id=mark.user_id, tweet_author_id=mark.author_id, occurred_at=at), mark, mark.seq)
    if mark.kind is Kind.RETWEET:
        return _event("retweeted", events_pb2.Retweeted(
            retweet_id=mark.seq, tweet_id=mark.tweet_id, user_id=mark.user_id, tweet_author_id=mark.author_id,
            occurred_at=at), mark, mark.seq)
    return []


def removed(mark: Mark, *, seq: int) -> list[OutgoingEvent]:
    """The events that report a mark taken back by the action with Snowflake id `seq`: Unliked or
    Unretweeted; none for a bookmark."""
    at = occurred_at(seq)
    if mark.kind is Kind.LIKE:
        return _event("unliked", events_pb2.Unliked(
            tweet_id=mark.tweet_id, user_id=mark.user_id, tweet_author_id=mark.author_id, occurred_at=at), mark, seq)
    if mark.kind is Kind.RETWEET:
        return _event("unretweeted", events_pb2.Unretweeted(
            retweet_id=mark.seq, tweet_id=mark.tweet_id, user_id=mark.user_id, tweet_author_id=mark.author_id,
            occurred_at=at), mark, seq)
    return []
