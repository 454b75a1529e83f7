"""Domain tweets as chirp.tweet.v1 messages, and the events of tweet/v1/events.proto made of them.

Events go out on chirp.tweet.<event> through the outbox, in the transaction of the change they
report. Their ids are derived from what they report (the tweet, the vote), so even a change staged
twice would reach consumers once: JetStream drops a repeated Nats-Msg-Id.
"""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from chirp.tweet.v1 import events_pb2, tweet_pb2
from services.runtime.events import OutgoingEvent, subject
from services.tweet.domain import Entities, Poll, Tweet

DOMAIN = "tweet"


def timestamp(ms: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(ms)
    return ts


def poll_proto(poll: Poll, now_ms: int, viewer_option: int | None = None) -> tweet_pb2.Poll:
    message = tweet_pb2.Poll(
        options=[tweet_pb2.PollOption(text=label, vote_count=poll.count(i)) for i, label in enumerate(poll.options)],
        ends_at=timestamp(poll.ends_at_ms),
        closed=poll.closed(now_ms),
    )
    if viewer_option is not None:
        message.viewer_option_index = viewer_option
    return message


def _fill_entities(target: tweet_pb2.Entities, entities: Entities) -> None:
    # Adding to the message's own repeated fields, rather than building submessages and copying them
    # in, makes a tweet message about twice as cheap; BatchGetTweets builds one per tweet it answers.
    target.SetInParent()  # present even when empty, as a tweet's entities always were
    if entities.mentions:
        add_mention = target.mentions.add
        for m in entities.mentions:
            add_mention(user_id=m.user_id, username=m.username, start=m.start, end=m.end)
    if entities.hashtags:
        add_hashtag = target.hashtags.add
        for h in entities.hashtags:
            add_hashtag(tag=h.tag, text=h.text, start=h.start, end=h.end)
    if entities.urls:
        add_url = target.urls.add
        for u in entities.urls:
            add_url(url=u.url, start=u.start, end=u.end)


def entities_proto(entities: Entities) -> tweet_pb2.Entities:
    message = tweet_pb2.Entities()
    _fill_entities(message, entities)
    return message


def tweet_proto(tweet: Tweet, *, author_private: bool, now_ms: int, viewer_option: int | None = None,
                quoted: tweet_pb2.Tweet | None = None) -> tweet_pb2.Tweet:
    """The message for a tweet; `quoted` is the quoted tweet's message when the reader may see it."""
    message = tweet_pb2.Tweet(
        id=tweet.id,
        author_id=tweet.author_id,
        text=tweet.text,
        reply_to_tweet_id=tweet.reply_to_id,
        conversation_id=tweet.conversation_id,
        quote_tweet_id=tweet.quote_id,
        media_urls=tweet.media_urls,
        location=tweet.location,
        language=tweet.language,
        sensitive=tweet.sensitive,
        visibility=tweet_pb2.VISIBILITY_FOLLOWERS if author_private else tweet_pb2.VISIBILITY_PUBLIC,
    )
    message.created_at.FromMilliseconds(tweet.created_at_ms)
    _fill_entities(message.entities, tweet.entities)
    if tweet.poll is not None:
        message.poll.CopyFrom(poll_proto(tweet.poll, now_ms, viewer_option))
    if quoted is not None:
        message.quoted_tweet.CopyFrom(quoted)
    return message


def tweet_created(tweet: Tweet, *, author_private: bool) -> OutgoingEvent:
    """TweetCreated: the tweet as stored, without its quoted tweet or anyone's vote."""
    message = tweet_proto(tweet, author_private=author_private, now_ms=tweet.created_at_ms)
    return OutgoingEvent.of(
        subject(DOMAIN, "created"),
        events_pb2.TweetCreated(tweet=message, occurred_at=timestamp(tweet.created_at_ms)),
        event_id=f"tweet.created:{tweet.id}",
    )


def tweet_deleted(tweet: Tweet, deleted_at_ms: int) -> OutgoingEvent:
    return OutgoingEvent.of(
        subject(DOMAIN, "deleted"),
        events_pb2.TweetDeleted(tweet_id=tweet.id, author_id=tweet.author_id, reply_to_tweet_id=tweet.reply_to_id,
                                quote_tweet_id=tweet.quote_id, occurred_at=timestamp(deleted_at_ms)),
        event_id=f"tweet.deleted:{tweet.id}",
    )


def poll_voted(tweet: Tweet, voter_id: int, option_index: int, voted_at_ms: int) -> OutgoingEvent:
    return OutgoingEvent.of(
        subject(DOMAIN, "poll_voted"),
        events_pb2.PollVoted(tweet_id=tweet.id, author_id=tweet.author_id, voter_id=voter_id,
                             option_index=option_index, occurred_at=timestamp(voted_at_ms)),
        event_id=f"tweet.poll_voted:{tweet.id}:{voter_id}",
    )
