"""Timeline rules, pure: entry keys, merging windows, taking pages, positions, who is shown what."""

from __future__ import annotations

import random

import pytest

from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied
from services.timeline import domain
from services.timeline.domain import Batch, Entry, Policy, Position, Relation


def t(tweet_id: int, author: int = 7) -> Entry:
    return domain.tweet_entry(tweet_id, author)


def rt(retweet_id: int, tweet_id: int, retweeter: int, author: int = 7) -> Entry:
    return domain.retweet_entry(retweet_id, tweet_id, author, retweeter)


# --- keys -----------------------------------------------------------------------------------------


def test_keys_sort_as_entries_do() -> None:
    rng = random.Random(5)
    entries = [Entry(rng.randrange(1, 2**63), rng.randrange(1, 2**63), rng.choice([0, rng.randrange(1, 2**63)]))
               for _ in range(500)]
    assert sorted(entries, key=lambda e: e.key) == sorted(entries, key=lambda e: (e.entry_id, e.tweet_id,
                                                                                  e.retweeter_id))


def test_key_round_trips_and_names_the_parts() -> None:
    entry = rt(900, 100, 55, author=3)
    assert entry.key == "00000000000000000900:100:55"
    assert Entry.from_key(entry.key, author_id=3) == entry
    assert entry.is_retweet and entry.owner_id == 55
    assert t(100, author=3).owner_id == 3 and not t(100).is_retweet


@pytest.mark.parametrize("key", ["", "12:3:0", "00000000000000000900:x:0", "00000000000000000900:1", "a" * 30])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        Entry.from_key(key)


def test_newest_first_drops_repeated_keys_and_prefers_known_authors() -> None:
    merged = domain.newest_first([Entry(5, 5), t(9), t(5, author=4), t(7)])
    assert [e.entry_id for e in merged] == [9, 7, 5]
    assert merged[-1].author_id == 4


# --- windows --------------------------------------------------------------------------------------


def test_merge_window_takes_the_newest_across_sources() -> None:
    window = domain.merge_window([Batch([t(9), t(5)], False), Batch([t(8), t(2)], False)], size=3)
    assert [e.entry_id for e in window.entries] == [9, 8, 5]
    assert not window.exhausted  # t(2) is left


def test_merge_window_never_passes_a_source_that_has_more() -> None:
    # The first source answered 2 of more: its next entry could be anywhere below 8, so nothing
    # below 8 may be taken yet, however much the other source offers.
    window = domain.merge_window([Batch([t(9), t(8)], True), Batch([t(7), t(6), t(1)], False)], size=2)
    assert [e.entry_id for e in window.entries] == [9, 8]
    assert not window.exhausted
    window = domain.merge_window([Batch([t(9), t(8)], True), Batch([t(10), t(6)], False)], size=5)
    assert [e.entry_id for e in window.entries] == [10, 9, 8]


def test_merge_window_is_exhausted_when_every_source_is() -> None:
    assert domain.merge_window([Batch([t(3)], False), Batch([], False)], size=5).exhausted
    assert domain.merge_window([], size=5) == domain.Window((), True)


def test_windows_in_sequence_list_every_entry_once_in_order() -> None:
    rng = random.Random(11)
    ids = rng.sample(range(1, 10_000), 300)
    sources = [sorted(ids[i::3], reverse=True) for i in range(3)]

    def answer(source: list[int], below: str | None, size: int) -> Batch:
        found = [t(i) for i in source if below is None or t(i).key < below][:size]
        return Batch(found, len(found) == size)

    below, listed = None, []
    while True:
        window = domain.merge_window([answer(s, below, 7) for s in sources], 7)
        listed += [e.entry_id for e in window.entries]
        if window.exhausted or not window.entries:
            break
        below = window.entries[-1].key
    assert listed == sorted(ids, reverse=True)


@pytest.mark.parametrize(("limit", "size"), [(1, 6), (20, 30), (60, 90), (100, 100)])
def test_window_size_leaves_room_for_filtering_and_is_capped(limit: int, size: int) -> None:
    assert domain.window_size(limit) == size


# --- taking a page --------------------------------------------------------------------------------


def test_take_stops_at_the_wanted_count_and_says_where() -> None:
    window = [t(9), t(8), t(7), t(6)]
    kept = {e.key: e.tweet_id for e in window if e.entry_id != 8}
    taken = domain.take(window, kept, 2, set())
    assert [e.entry_id for e in taken.entries] == [9, 7]
    assert taken.last_key == t(7).key and taken.more_in_window


def test_take_consumes_filtered_entries_too() -> None:
    window = [t(9), t(8), t(7)]
    taken = domain.take(window, {t(9).key: 9}, 5, set())
    assert [e.entry_id for e in taken.entries] == [9]
    assert taken.last_key == t(7).key and not taken.more_in_window


def test_take_shows_a_tweet_once_by_its_newest_kept_entry() -> None:
    window = [rt(30, 5, retweeter=2), rt(20, 5, retweeter=3), t(10), t(5)]
    seen: set[int] = set()
    taken = domain.take(window, {e.key: e.tweet_id for e in window}, 10, seen)
    assert taken.entries == (rt(30, 5, retweeter=2), t(10))
    assert seen == {5, 10}
    # the newest entry hidden (its retweeter muted, say): the next one brings the tweet
    taken = domain.take(window, {e.key: e.tweet_id for e in window[1:]}, 10, set())
    assert taken.entries == (rt(20, 5, retweeter=3), t(10))


def test_take_skips_tweets_seen_on_earlier_pages() -> None:
    window = [t(9), t(5)]
    taken = domain.take(window, {e.key: e.tweet_id for e in window}, 10, {5})
    assert taken.entries == (t(9),)


# --- positions ------------------------------------------------------------------------------------


def test_position_round_trips() -> None:
    position = Position(t(42).key, (3, 4))
    assert Position.from_fields(position.to_fields()) == position
    assert Position.from_fields(Position(t(42).key).to_fields()) == Position(t(42).key)
    assert position.entry_id == 42


@pytest.mark.parametrize("fields", [
    {}, {"k": 5}, {"k": "nope"}, {"k": t(1).key, "x": 1}, {"k": t(1).key, "s": "1"}, {"k": t(1).key, "s": [0]},
    {"k": t(1).key, "s": [True]}, {"k": t(1).key, "s": list(range(1, 200))},
])
def test_bad_positions_are_invalid_cursors(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        Position.from_fields(fields)
    assert caught.value.reason == "INVALID_CURSOR"


def test_carried_seen_keeps_only_tweets_that_can_come_again() -> None:
    # Tweet 50 was shown at entry 50 and the position is at 40: no entry of tweet 50 is below it.
    assert domain.carried_seen([50, 5, 30, 5], t(40).key) == (5, 30)
    assert len(domain.carried_seen(range(1, 1000), t(5000).key)) == domain.SEEN_MAX


# --- who sees what --------------------------------------------------------------------------------

VIEWER = 1


@pytest.mark.parametrize(("entry", "author", "relations", "expected"), [
    (t(10, 2), 2, {2: Relation(following=True)}, True),
    (t(10, 2), 2, {}, False),  # unfollowed
    (t(10, VIEWER), VIEWER, {}, True),  # the viewer's own
    (t(10, 2), 2, {2: Relation(following=True, muting=True)}, False),
    (t(10, 2), 2, {2: Relation(following=True, blocking=True)}, False),
    (t(10, 2), 2, {2: Relation(following=True, blocked_by=True)}, False),
    (rt(20, 10, 3, 2), 2, {3: Relation(following=True)}, True),  # the author need not be followed
    (rt(20, 10, 3, 2), 2, {3: Relation(following=True), 2: Relation(muting=True)}, False),
    (rt(20, 10, 3, 2), 2, {3: Relation(following=True), 2: Relation(blocked_by=True)}, False),
    (rt(20, 10, 3, 2), 2, {3: Relation(following=True, muting=True)}, False),
    (rt(20, 10, 3, 2), 2, {2: Relation(following=True)}, False),  # the retweeter is not followed
    (rt(20, 10, VIEWER, 2), 2, {}, True),  # the viewer's own retweet
])
def test_home_shows_followed_and_own_entries_without_mutes_or_blocks(
        entry: Entry, author: int, relations: dict[int, Relation], expected: bool) -> None:
    assert domain.shown(Policy.HOME, VIEWER, entry, author, relations) is expected


def test_suggestions_need_no_follow_but_respect_mutes_and_blocks() -> None:
    assert domain.shown(Policy.SUGGESTION, VIEWER, t(10, 2), 2, {})
    assert not domain.shown(Policy.SUGGESTION, VIEWER, t(10, 2), 2, {2: Relation(muting=True)})
    assert domain.shown(Policy.PROFILE, VIEWER, t(10, 2), 2, {2: Relation(muting=True)})


@pytest.mark.parametrize(("value", "entry", "media", "reply", "expected"), [
    ("", t(1), False, False, True),
    ("media", t(1), True, False, True),
    ("media", t(1), False, False, False),
    ("replies", t(1), False, True, True),
    ("replies", t(1), False, False, False),
    ("retweets", rt(2, 1, 3), False, False, True),
    ("retweets", t(1), True, True, False),
])
def test_filters(value: str, entry: Entry, media: bool, reply: bool, expected: bool) -> None:
    assert domain.passes_filter(domain.check_filter(value), entry, has_media=media, is_reply=reply) is expected


@pytest.mark.parametrize("value", ["photos", "MEDIA", " ", "replies,media"])
def test_unknown_filters_are_refused(value: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.check_filter(value)
    assert caught.value.reason == "INVALID_FILTER"


def test_profile_access() -> None:
    domain.check_profile_access(1, 2, exists=True, private=False, relation=Relation())
    domain.check_profile_access(1, 2, exists=True, private=True, relation=Relation(following=True))
    domain.check_profile_access(2, 2, exists=True, private=True, relation=Relation())
    with pytest.raises(PermissionDenied) as denied:
        domain.check_profile_access(1, 2, exists=True, private=True, relation=Relation())
    assert denied.value.reason == "PRIVATE_ACCOUNT"
    for exists, relation in [(False, Relation()), (True, Relation(blocking=True)), (True, Relation(blocked_by=True))]:
        with pytest.raises(NotFound) as missing:
            domain.check_profile_access(1, 2, exists=exists, private=False, relation=relation)
        assert missing.value.reason == "USER_NOT_FOUND"


def test_celebrities_have_more_followers_than_the_threshold() -> None:
    assert not domain.is_celebrity(3, 3)
    assert domain.is_celebrity(4, 3)
