"""The engagement service's pure rules, its events, and its consumer's reading of tweet events."""

from __future__ import annotations

import pytest

from chirp.engagement.v1 import events_pb2
from services.engagement import domain, events
from services.engagement.domain import ChildTweet, Counts, Entry, Kind, Mark, Page, TweetEngagement
from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied
from services.runtime.ids import SnowflakeGenerator, timestamp_ms

ME, AUTHOR = 10, 20


# --- checks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, -(2**63)])
def test_a_number_that_no_snowflake_can_be_is_an_unknown_tweet(value: int) -> None:
    with pytest.raises(NotFound) as caught:
        domain.require_tweet_id(value)
    assert caught.value.reason == "TWEET_NOT_FOUND"
    assert domain.require_tweet_id(5) == 5


def test_nobody_retweets_a_private_account_but_the_account_itself() -> None:
    with pytest.raises(PermissionDenied) as caught:
        domain.check_retweet(ME, AUTHOR, author_private=True)
    assert caught.value.reason == "PROTECTED_TWEET"
    domain.check_retweet(AUTHOR, AUTHOR, author_private=True)
    domain.check_retweet(ME, AUTHOR, author_private=False)
    domain.check_retweet(ME, ME, author_private=False)


@pytest.mark.parametrize("comment", ["", "x" * 280, "é" * 280, "e\u0301" * 280, " " * 10 + "y" * 280 + "\n", "🐦" * 280])
def test_comments_of_up_to_280_characters_pass_as_given(comment: str) -> None:
    assert domain.check_comment(comment) == comment


@pytest.mark.parametrize("comment", ["x" * 281, "🐦" * 281, "a" * 100_000])
def test_longer_comments_are_refused(comment: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.check_comment(comment)
    assert caught.value.reason == "COMMENT_TOO_LONG"


def test_batches_are_distinct_in_order_and_at_most_500() -> None:
    assert domain.batch_ids([3, 1, 3, 2, 1]) == [3, 1, 2]
    assert len(domain.batch_ids([*range(500), *range(500)])) == 500
    with pytest.raises(InvalidArgument) as caught:
        domain.batch_ids(range(501))
    assert caught.value.reason == "TOO_MANY_IDS"


def test_engagement_answers_every_id_with_zeros_for_unknown_ones() -> None:
    found = domain.engagement_of({1: Counts(likes=2)}, {Kind.LIKE: {1}, Kind.BOOKMARK: {2}}, [1, 2, 3])
    assert found == {
        1: TweetEngagement(Counts(likes=2), liked=True),
        2: TweetEngagement(bookmarked=True),
        3: TweetEngagement(),
    }


def test_a_child_counts_for_others_when_it_replies_or_quotes() -> None:
    assert ChildTweet(1, reply_to_id=2).counts_for_others
    assert ChildTweet(1, quote_id=2).counts_for_others
    assert not ChildTweet(1).counts_for_others


# --- pages and cursors ----------------------------------------------------------------------------


def test_a_page_says_where_the_next_resumes_only_when_more_follow() -> None:
    rows = [Entry(9, 1), Entry(8, 2), Entry(7, 3)]
    assert Page.of(rows, 2) == Page((Entry(9, 1), Entry(8, 2)), Entry(8, 2))
    assert Page.of(rows, 3) == Page(tuple(rows), None)
    assert Page.of([], 3) == Page((), None)


def test_cursor_fields_round_trip() -> None:
    entry = Entry(2**62, 12345)
    assert domain.entry_of(domain.cursor_fields(entry)) == entry
    assert domain.entry_of(None) is None


@pytest.mark.parametrize("fields", [
    {}, {"s": 1}, {"s": 1, "i": 2, "x": 3}, {"s": "1", "i": 2}, {"s": 0, "i": 2}, {"s": 1, "i": -2},
    {"s": True, "i": 2}, {"s": 1.5, "i": 2}, {"s": 2**63, "i": 1}, {"s": None, "i": 1},
])
def test_malformed_cursor_fields_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.entry_of(fields)
    assert caught.value.reason == "INVALID_CURSOR"


# --- events ---------------------------------------------------------------------------------------


def test_marks_make_their_events_and_bookmarks_make_none() -> None:
    ids = SnowflakeGenerator(4)
    like = Mark(Kind.LIKE, 100, ME, AUTHOR, ids.next_id())
    retweet = Mark(Kind.RETWEET, 100, ME, AUTHOR, ids.next_id())
    later = ids.next_id()
    [liked] = events.added(like)
    [unliked] = events.removed(like, seq=later)
    [retweeted] = events.added(retweet)
    [unretweeted] = events.removed(retweet, seq=later)
    assert [e.subject for e in (liked, unliked, retweeted, unretweeted)] == [
        "chirp.engagement.liked", "chirp.engagement.unliked", "chirp.engagement.retweeted",
        "chirp.engagement.unretweeted"]
    message = events_pb2.Liked.FromString(liked.payload)
    assert (message.tweet_id, message.user_id, message.tweet_author_id) == (100, ME, AUTHOR)
    assert message.occurred_at.ToMilliseconds() == timestamp_ms(like.seq)
    assert events_pb2.Unliked.FromString(unliked.payload).occurred_at.ToMilliseconds() == timestamp_ms(later)
    assert events_pb2.Retweeted.FromString(retweeted.payload).retweet_id == retweet.seq
    assert events_pb2.Unretweeted.FromString(unretweeted.payload).retweet_id == retweet.seq
    assert len({e.event_id for e in (liked, unliked, retweeted, unretweeted)}) == 4
    assert events.added(like)[0].event_id == liked.event_id  # derived, so a re-staged event is one event
    bookmark = Mark(Kind.BOOKMARK, 100, ME, AUTHOR, ids.next_id())
    assert events.added(bookmark) == [] and events.removed(bookmark, seq=later) == []
