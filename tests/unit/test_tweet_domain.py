"""The tweet service's pure rules: text, media, polls, entities, visibility, language."""

from __future__ import annotations

import unicodedata

import pytest

from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied
from services.runtime.ids import timestamp_ms
from services.tweet import domain
from services.tweet.domain import Hashtag, Mention, MentionCandidate, Relation, Url
from services.tweet.language import detect_language


def reason(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(InvalidArgument) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.reason


def draft(text: str = "hello", media: tuple[str, ...] = (), poll: tuple[list[str], int] | None = None,
          location: str = "") -> domain.Draft:
    return domain.validate_draft(text, list(media), poll, location)


# --- length, after NFC ----------------------------------------------------------------------------


def test_280_characters_pass_and_281_do_not() -> None:
    assert draft("a" * 280).text == "a" * 280
    assert reason(draft, "a" * 281) == "TWEET_TOO_LONG"


def test_combining_characters_are_counted_after_nfc() -> None:
    decomposed = "e\u0301" * 280  # 560 code points as sent, 280 "é" once composed
    assert len(decomposed) == 560
    checked = draft(decomposed).text
    assert checked == "\u00e9" * 280 and unicodedata.is_normalized("NFC", checked)
    assert reason(draft, "e\u0301" * 281) == "TWEET_TOO_LONG"


def test_a_combining_mark_without_a_composed_form_still_counts() -> None:
    # q + combining dot below has no precomposed character: two code points after NFC too.
    assert reason(draft, "q\u0323" * 141) == "TWEET_TOO_LONG"
    assert draft("q\u0323" * 140).text == "q\u0323" * 140


def test_emoji_count_one_character_per_code_point() -> None:
    face = "\U0001F600"  # two UTF-16 units, four UTF-8 bytes, one code point
    assert draft(face * 280).text == face * 280
    assert reason(draft, face * 281) == "TWEET_TOO_LONG"
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # a ZWJ sequence: five code points
    assert draft(family * 56).text == family * 56
    assert reason(draft, family * 56 + "x") == "TWEET_TOO_LONG"
    flag = "\U0001F1FA\U0001F1F8"  # two regional indicators
    assert reason(draft, flag * 141) == "TWEET_TOO_LONG"


def test_whitespace_around_is_trimmed_before_counting() -> None:
    assert draft("  " + "a" * 280 + "\n\n ").text == "a" * 280
    assert draft("line one\r\nline two").text == "line one\nline two"


# --- empty, control characters --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t \n", "\u3000"])
def test_empty_or_blank_text_needs_media(text: str) -> None:
    assert reason(draft, text) == "TWEET_EMPTY"
    assert draft(text, media=("https://media.example/a.png",)).text == ""


def test_a_poll_alone_is_not_a_tweet() -> None:
    assert reason(draft, "", poll=(["yes", "no"], 60)) == "TWEET_EMPTY"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\r"])
def test_control_characters_are_refused(char: str) -> None:
    assert reason(draft, f"hi{char}there") == "INVALID_TEXT"


def test_line_breaks_tabs_and_joiners_are_text() -> None:
    assert draft("a\nb\tc").text == "a\nb\tc"
    assert draft("\u200d\u200cx").text == "\u200d\u200cx"  # ZWJ/ZWNJ are format characters, not controls


# --- media, polls, location -----------------------------------------------------------------------


def test_up_to_four_http_media_urls() -> None:
    urls = tuple(f"https://media.example/{i}.jpg" for i in range(4))
    assert draft("x", media=urls).media_urls == urls
    assert reason(draft, "x", media=urls + ("https://media.example/5.jpg",)) == "TOO_MANY_MEDIA"


@pytest.mark.parametrize("url", ["ftp://media.example/a", "javascript:alert(1)", "https://", "media.example/a",
                                 "https://media.example/a b", "http://host:port/x", "", "https://x/\x00"])
def test_media_urls_must_be_http_urls(url: str) -> None:
    assert reason(draft, "x", media=(url,)) == "INVALID_MEDIA_URL"


def test_poll_rules() -> None:
    made = draft("Which?", poll=([" Tea ", "Coffee"], 0)).poll
    assert made == domain.NewPoll(("Tea", "Coffee"), 24 * 60)
    assert draft("Which?", poll=(["a", "b", "c", "d"], 5)).poll.duration_minutes == 5  # type: ignore[union-attr]
    assert draft("Which?", poll=(["a", "b"], 10080)).poll.duration_minutes == 10080  # type: ignore[union-attr]
    for options, minutes in ((["only"], 60), (["a", "b", "c", "d", "e"], 60), (["a", ""], 60), (["a", " "], 60),
                             (["a", "x" * 26], 60), (["a", "b"], 4), (["a", "b"], 10081), (["a", "b"], -5),
                             (["a", "b\x00"], 60)):
        assert reason(draft, "Which?", poll=(options, minutes)) == "INVALID_POLL", (options, minutes)
    assert draft("Which?", poll=(["é" * 25, "b"], 60)).poll is not None
    assert reason(draft, "x", media=("https://m.example/a",), poll=(["a", "b"], 60)) == "POLL_WITH_MEDIA"


def test_a_poll_ends_its_duration_after_the_tweet() -> None:
    tweet_id = 1 << 30
    poll = domain.poll_of(domain.NewPoll(("a", "b"), 5), tweet_id)
    assert poll is not None and poll.ends_at_ms == timestamp_ms(tweet_id) + 5 * 60_000
    assert poll.counts == (0, 0)
    assert not poll.closed(poll.ends_at_ms - 1) and poll.closed(poll.ends_at_ms)


def test_location() -> None:
    assert draft("x", location="  Paris  ").location == "Paris"
    assert draft("x", location="é" * 30).location == "é" * 30
    assert reason(draft, "x", location="x" * 31) == "LOCATION_TOO_LONG"
    assert reason(draft, "x", location="a\nb") == "INVALID_TEXT"


# --- entities -------------------------------------------------------------------------------------


def parse(text: str) -> domain.Parsed:
    return domain.parse_entities(text)


def test_mentions_of_1_to_15_characters() -> None:
    found = parse("hi @a and @Fifteen_Chars15, @sixteen_chars_16 and @")
    assert found.mentions == (MentionCandidate("a", 3, 5), MentionCandidate("Fifteen_Chars15", 10, 26))
    assert found.usernames == ["a", "fifteen_chars15"]


@pytest.mark.parametrize(("text", "names"), [
    ("@bob", ["bob"]),
    ("@bob.", ["bob"]),
    ("(@bob)", ["bob"]),
    ("@bob's tweet", ["bob"]),
    ("@bob,@carol", ["bob", "carol"]),
    ("mail me at me@example.com", []),
    ("@@bob", []),
    ("#@bob", []),
    ("@bob@host", []),
    ("@bobé", []),
    ("café@bob", []),
    ("＠bob", ["bob"]),
    ("@BOB and @bob", ["BOB", "bob"]),
])
def test_mention_edges(text: str, names: list[str]) -> None:
    assert [m.username for m in parse(text).mentions] == names


def test_repeated_mentions_resolve_in_one_list() -> None:
    assert parse("@BOB and @bob").usernames == ["bob"]


@pytest.mark.parametrize(("text", "tags"), [
    ("#tag", [("tag", "tag", 0, 4)]),
    ("#Tag.", [("tag", "Tag", 0, 4)]),
    ("#tag, #other!", [("tag", "tag", 0, 4), ("other", "other", 6, 12)]),
    ("(#tag)", [("tag", "tag", 1, 5)]),
    ("#tag's", [("tag", "tag", 0, 4)]),
    ("#snake_case_2", [("snake_case_2", "snake_case_2", 0, 13)]),
    ("#2024", []),
    ("#1st", [("1st", "1st", 0, 4)]),
    ("#", []),
    ("# tag", []),
    ("a#tag", []),
    ("&#39;", []),
    ("##tag", []),
    ("#tag#other", [("tag", "tag", 0, 4)]),
    ("#ÜberCool", [("übercool", "ÜberCool", 0, 9)]),
    ("#日本語", [("日本語", "日本語", 0, 4)]),
    ("#हिन्दी", [("हिन्दी", "हिन्दी", 0, 7)]),  # vowel signs are marks: part of the tag
    ("＃Fullwidth", [("fullwidth", "Fullwidth", 0, 10)]),
])
def test_hashtag_edges(text: str, tags: list[tuple[str, str, int, int]]) -> None:
    assert parse(text).hashtags == tuple(Hashtag(*t) for t in tags)


def test_hashtags_normalise_case_insensitively() -> None:
    tags = parse("#Python #PYTHON #python").hashtags
    assert {h.tag for h in tags} == {"python"} and [h.text for h in tags] == ["Python", "PYTHON", "python"]


@pytest.mark.parametrize(("text", "urls"), [
    ("see https://example.com/a?b=c#frag now", ["https://example.com/a?b=c#frag"]),
    ("see http://example.com.", ["http://example.com"]),
    ("(https://example.com/x)", ["https://example.com/x"]),
    ("https://en.wikipedia.org/wiki/Foo_(bar)", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("HTTPS://EXAMPLE.COM/Up!", ["HTTPS://EXAMPLE.COM/Up"]),
    ("two: https://a.example,https://b.example", ["https://a.example,https://b.example"]),
    ("https://", []),
    ("https://?q", []),
    ("ftp://example.com", []),
    ("xhttps://example.com", []),
    ("\"https://example.com/q\"", ["https://example.com/q"]),
])
def test_url_edges(text: str, urls: list[str]) -> None:
    found = parse(text).urls
    assert [u.url for u in found] == urls
    assert all(text[u.start:u.end] == u.url for u in found)


def test_nothing_inside_a_url_is_a_mention_or_hashtag() -> None:
    found = parse("read https://example.com/@bob/#top and #real @real")
    assert [h.text for h in found.hashtags] == ["real"]
    assert [m.username for m in found.mentions] == ["real"]


def test_offsets_count_code_points_of_the_normalised_text() -> None:
    text = domain.normalize_text("\U0001F600 cafe\u0301 @bob #tag https://x.example")
    found = parse(text)
    assert text[found.mentions[0].start:found.mentions[0].end] == "@bob"
    assert text[found.hashtags[0].start:found.hashtags[0].end] == "#tag"
    assert found.mentions[0].start == 7  # emoji, space, "café" (4 once composed), space


def test_resolving_mentions_keeps_known_unblocked_accounts() -> None:
    found = parse("@Bob @carol @ghost @dave")
    entities = domain.resolve_entities(found, {"bob": 1, "carol": 2, "dave": 4}, excluded=[2])
    assert entities.mentions == (Mention(1, "Bob", 0, 4), Mention(4, "dave", 19, 24))
    assert entities.hashtags == () and entities.urls == ()


def test_urls_are_kept_whole() -> None:
    assert parse("https://example.com").urls == (Url("https://example.com", 0, 19),)


# --- visibility -----------------------------------------------------------------------------------

ME, AUTHOR = 1, 2


@pytest.mark.parametrize(("viewer", "private", "relation", "exists", "sees"), [
    (ME, False, Relation(), True, True),
    (0, False, Relation(), True, True),  # signed out sees public tweets
    (0, True, Relation(), True, False),  # ... and never private ones
    (ME, True, Relation(), True, False),
    (ME, True, Relation(following=True), True, True),
    (ME, False, Relation(blocked_by=True), True, False),
    (ME, False, Relation(blocking=True), True, False),
    (ME, True, Relation(following=True, blocking=True), True, False),
    (AUTHOR, True, Relation(), True, True),  # the author sees their own
    (ME, False, Relation(), False, False),  # a deleted account's tweets are gone
    (AUTHOR, False, Relation(), False, False),
])
def test_who_sees_a_tweet(viewer: int, private: bool, relation: Relation, exists: bool, sees: bool) -> None:
    assert domain.can_see(viewer, AUTHOR, author_exists=exists, author_private=private, relation=relation) is sees


def test_reply_and_quote_targets() -> None:
    domain.check_reply_target(True, Relation())
    with pytest.raises(PermissionDenied) as denied:
        domain.check_reply_target(False, Relation(blocked_by=True))
    assert denied.value.reason == "BLOCKED_BY_AUTHOR"
    with pytest.raises(NotFound):
        domain.check_reply_target(False, Relation(blocking=True))
    domain.check_quote_target(True, ME, AUTHOR, False)
    domain.check_quote_target(True, ME, ME, True)  # your own private tweet
    with pytest.raises(PermissionDenied) as denied:
        domain.check_quote_target(True, ME, AUTHOR, True)
    assert denied.value.reason == "PROTECTED_TWEET"
    with pytest.raises(NotFound):
        domain.check_quote_target(False, ME, AUTHOR, False)


def test_batch_ids() -> None:
    assert domain.batch_ids([3, 1, 3, 0, -2]) == [3, 1]
    assert len(domain.batch_ids(list(range(1, 501)) * 2)) == 500
    assert reason(domain.batch_ids, range(1, 502)) == "TOO_MANY_IDS"


def test_popularity_weighs_shares_double() -> None:
    assert domain.popularity(domain.Engagement(likes=3, retweets=1, replies=2, quotes=1), poll_votes=4) == 13


# --- language -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "language"), [
    ("The weather is nice and the sun is out", "en"),
    ("El tiempo es muy bueno y el sol brilla para todos", "es"),
    ("Le temps est beau et le soleil est dans le ciel", "fr"),
    ("Das Wetter ist schön und die Sonne ist nicht weg", "de"),
    ("今日はいい天気ですね", "ja"),
    ("今天天气很好", "zh"),
    ("오늘 날씨가 좋네요", "ko"),
    ("Сегодня хорошая погода", "ru"),
    ("ok", "und"),
    ("\U0001F600\U0001F600", "und"),
    ("", "und"),
])
def test_language_is_told_or_und(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_entities_say_nothing_of_the_language() -> None:
    text = "@el @la @de #que #los https://es.example/el/la/de"
    spans = [(e.start, e.end) for e in (*parse(text).mentions, *parse(text).hashtags, *parse(text).urls)]
    assert detect_language(text, spans) == "und"
