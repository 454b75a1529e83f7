"""Tweet rules: what a valid tweet, poll and idempotency key look like, the entities found in a text,
and who may see a tweet. Pure: no I/O, no grpc, no protobuf.

A character is a Unicode code point of the text after NFC normalisation (so "e" followed by a
combining acute accent is one character, as "é" is, and an emoji outside the Basic Multilingual
Plane is one character however many UTF-16 units or bytes it takes). Entity offsets count the same
unit, as the contract says.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from services.runtime.errors import InvalidArgument, NotFound, PermissionDenied
from services.runtime.ids import timestamp_ms

TEXT_MAX = 280
MEDIA_MAX = 4
URL_MAX = 2048
LOCATION_MAX = 30
POLL_OPTIONS_MIN, POLL_OPTIONS_MAX = 2, 4
POLL_LABEL_MIN, POLL_LABEL_MAX = 1, 25
POLL_MINUTES_MIN, POLL_MINUTES_MAX, POLL_MINUTES_DEFAULT = 5, 7 * 24 * 60, 24 * 60
MENTION_MAX = 15
BATCH_LIMIT = 500
PAGE_DEFAULT, PAGE_MAX = 20, 100
# Control characters a text may hold: line breaks and tabs. Every other one (category Cc) is refused.
_ALLOWED_CONTROLS = frozenset("\n\t")


# --- the tweet ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    """An @name that resolved to an account; offsets in code points, end exclusive."""

    user_id: int
    username: str  # as written, without the @
    start: int
    end: int


@dataclass(frozen=True)
class Hashtag:
    tag: str  # normalised: lowercase, without the #
    text: str  # as written, without the #
    start: int
    end: int


@dataclass(frozen=True)
class Url:
    url: str
    start: int
    end: int


@dataclass(frozen=True)
class Entities:
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    urls: tuple[Url, ...] = ()


@dataclass(frozen=True)
class Poll:
    """A tweet's poll. `counts` holds the votes per option, as the store last counted them."""

    options: tuple[str, ...]
    ends_at_ms: int
    counts: tuple[int, ...] = ()

    def closed(self, now_ms: int) -> bool:
        return now_ms >= self.ends_at_ms

    def count(self, index: int) -> int:
        return self.counts[index] if index < len(self.counts) else 0


@dataclass(frozen=True)
class Tweet:
    """A tweet as stored. Its time is its Snowflake id's; `deleted_at_ms` and `hidden` (its author's
    account was deleted) are set only on reads that ask for tweets that are gone."""

    id: int
    author_id: int
    text: str
    conversation_id: int
    reply_to_id: int = 0
    quote_id: int = 0
    media_urls: tuple[str, ...] = ()
    poll: Poll | None = None
    location: str = ""
    entities: Entities = field(default_factory=Entities)
    language: str = "und"
    sensitive: bool = False
    deleted_at_ms: int | None = None
    hidden: bool = False

    @property
    def created_at_ms(self) -> int:
        return timestamp_ms(self.id)

    @property
    def live(self) -> bool:
        return self.deleted_at_ms is None and not self.hidden


# --- validating a new tweet -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewPoll:
    options: tuple[str, ...]
    duration_minutes: int


@dataclass(frozen=True)
class Draft:
    """A new tweet's content, checked and normalised."""

    text: str
    media_urls: tuple[str, ...] = ()
    poll: NewPoll | None = None
    location: str = ""


def _controls(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def normalize_text(text: str) -> str:
    """NFC, Windows line ends as plain ones, and no whitespace around."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()


def validate_text(text: str, *, required: bool, field: str = "text") -> str:
    """The normalised text: at most 280 characters, no control characters but line breaks and tabs.

    An empty text is refused (TWEET_EMPTY) when `required`.
    """
    text = normalize_text(text)
    if _controls(text, _ALLOWED_CONTROLS):
        raise InvalidArgument("INVALID_TEXT", "The text cannot contain control characters.", {"field": field})
    if len(text) > TEXT_MAX:
        raise InvalidArgument("TWEET_TOO_LONG", f"A tweet can have at most {TEXT_MAX} characters.",
                              {"field": field, "length": str(len(text)), "max": str(TEXT_MAX)})
    if required and not text:
        raise InvalidArgument("TWEET_EMPTY", "Write something, or attach media.", {"field": field})
    return text


def validate_media_url(value: str) -> str:
    """An absolute http(s) URL with a host. Whether the media service issued it to the author is
    checked once media upload exists (the media issue)."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid or len(value) > URL_MAX or any(ch.isspace() for ch in value) or _controls(value):
        raise InvalidArgument("INVALID_MEDIA_URL", "Each media URL must be an http or https URL.",
                              {"field": "media_urls"})
    return value


def validate_poll(options: Sequence[str], duration_minutes: int) -> NewPoll:
    if not POLL_OPTIONS_MIN <= len(options) <= POLL_OPTIONS_MAX:
        raise InvalidArgument("INVALID_POLL", f"A poll has {POLL_OPTIONS_MIN} to {POLL_OPTIONS_MAX} options.",
                              {"field": "poll.options"})
    labels = tuple(unicodedata.normalize("NFC", o).strip() for o in options)
    for label in labels:
        if not POLL_LABEL_MIN <= len(label) <= POLL_LABEL_MAX or _controls(label):
            raise InvalidArgument(
                "INVALID_POLL", f"Each poll option is {POLL_LABEL_MIN} to {POLL_LABEL_MAX} characters.",
                {"field": "poll.options"})
    minutes = duration_minutes or POLL_MINUTES_DEFAULT
    if not POLL_MINUTES_MIN <= minutes <= POLL_MINUTES_MAX:
        raise InvalidArgument(
            "INVALID_POLL", f"A poll runs from {POLL_MINUTES_MIN} minutes to 7 days ({POLL_MINUTES_MAX} minutes).",
            {"field": "poll.duration_minutes"})
    return NewPoll(labels, minutes)


def validate_location(location: str) -> str:
    location = unicodedata.normalize("NFC", location).strip()
    if len(location) > LOCATION_MAX:
        raise InvalidArgument("LOCATION_TOO_LONG", f"A location can have at most {LOCATION_MAX} characters.",
                              {"field": "location"})
    if _controls(location):
        raise InvalidArgument("INVALID_TEXT", "The location cannot contain control characters.", {"field": "location"})
    return location


def validate_draft(
    text: str, media_urls: Sequence[str], poll: tuple[Sequence[str], int] | None, location: str
) -> Draft:
    """Checks a new tweet: text, media, poll and location. `poll` is (options, duration in minutes)."""
    checked = validate_text(text, required=False)
    if len(media_urls) > MEDIA_MAX:
        raise InvalidArgument("TOO_MANY_MEDIA", f"Attach at most {MEDIA_MAX} media.", {"field": "media_urls"})
    urls = tuple(validate_media_url(u) for u in media_urls)
    new_poll = None
    if poll is not None:
        if urls:
            raise InvalidArgument("POLL_WITH_MEDIA", "A tweet can have a poll or media, not both.", {"field": "poll"})
        new_poll = validate_poll(*poll)
    place = validate_location(location)
    if not checked and not urls:
        raise InvalidArgument("TWEET_EMPTY", "Write something, or attach media.", {"field": "text"})
    return Draft(checked, urls, new_poll, place)


def poll_of(new: NewPoll | None, tweet_id: int) -> Poll | None:
    """The poll a new tweet starts, open from the tweet's time for its duration."""
    if new is None:
        return None
    return Poll(new.options, timestamp_ms(tweet_id) + new.duration_minutes * 60_000, (0,) * len(new.options))


# --- entities -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionCandidate:
    """An @name in the text; it becomes a Mention only if it names an account."""

    username: str
    start: int
    end: int


@dataclass(frozen=True)
class Parsed:
    """What a text holds before mentions are resolved."""

    mentions: tuple[MentionCandidate, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    urls: tuple[Url, ...] = ()

    @property
    def usernames(self) -> list[str]:
        """The distinct usernames mentioned, lowercased, in text order."""
        return list(dict.fromkeys(m.username.lower() for m in self.mentions))


_URL_START = re.compile(r"https?://", re.IGNORECASE)
_URL_TRAILING = ".,:;!?'\"*"
_URL_STOP = frozenset("<>\"“”‘’«»")
_PAIRS = {")": "(", "]": "["}


def _word_char(ch: str) -> bool:
    """Letters, marks and digits of any script, and the underscore: what a hashtag is made of."""
    return ch == "_" or unicodedata.category(ch)[0] in "LMN"


def _username_char(ch: str) -> bool:
    return ch == "_" or ("a" <= ch.lower() <= "z") or ("0" <= ch <= "9")


def _find_urls(text: str) -> list[Url]:
    urls: list[Url] = []
    for match in _URL_START.finditer(text):
        start = match.start()
        if urls and start < urls[-1].end:
            continue
        if start > 0 and (_word_char(text[start - 1]) or text[start - 1] in "@/#"):
            continue  # "xhttp://", "@http://": part of something else
        end = match.end()
        while end < len(text) and not text[end].isspace() and text[end] not in _URL_STOP:
            end += 1
        candidate = text[start:end]
        while candidate and (candidate[-1] in _URL_TRAILING or (
                candidate[-1] in _PAIRS and candidate.count(candidate[-1]) > candidate.count(_PAIRS[candidate[-1]]))):
            candidate = candidate[:-1]
        try:
            host = urlsplit(candidate).hostname
        except ValueError:
            host = None
        if host and len(candidate) <= URL_MAX:
            urls.append(Url(candidate, start, start + len(candidate)))
    return urls


def _inside(position: int, spans: Sequence[Url]) -> bool:
    return any(u.start <= position < u.end for u in spans)


def parse_entities(text: str) -> Parsed:
    """Finds the URLs, @mentions and #hashtags of a (normalised) text, in text order.

    - A URL starts with http:// or https:// (any case) and runs to whitespace; trailing punctuation
      and unbalanced closing brackets are not part of it. Nothing inside a URL is a mention or hashtag.
    - A mention is @ (or ＠) and 1 to 15 of [A-Za-z0-9_], not preceded by a letter, digit, _, @ or #
      (so an email address is none), and not followed by another such character or an @ (so
      @a_sixteen_chars_ is none at all, rather than a truncated one).
    - A hashtag is # (or ＃) and a run of letters, marks, digits and _ of any script holding at least
      one letter or mark (#2024 is none), not preceded by such a character, &, # or @. It ends at
      the first other character, so "#tag." and "#tag," give "tag". Its normal form is lowercase.
    """
    urls = _find_urls(text)
    mentions: list[MentionCandidate] = []
    hashtags: list[Hashtag] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch not in "@＠#＃" or _inside(i, urls):
            i += 1
            continue
        before = text[i - 1] if i else " "
        if before in "@＠#＃&" or _word_char(before):
            i += 1
            continue
        j = i + 1
        if ch in "@＠":
            while j < n and _username_char(text[j]):
                j += 1
            after = text[j] if j < n else " "
            if 1 <= j - i - 1 <= MENTION_MAX and not _word_char(after) and after not in "@＠":
                mentions.append(MentionCandidate(text[i + 1:j], i, j))
        else:
            while j < n and _word_char(text[j]):
                j += 1
            body = text[i + 1:j]
            if any(unicodedata.category(c)[0] in "LM" for c in body):
                hashtags.append(Hashtag(body.lower(), body, i, j))
        i = max(j, i + 1)
    return Parsed(tuple(mentions), tuple(hashtags), tuple(urls))


def resolve_entities(parsed: Parsed, user_ids: Mapping[str, int], excluded: Iterable[int] = ()) -> Entities:
    """The entities to store: mentions of the usernames that name accounts (keyed by lowercased
    username, as ResolveUsernames answers), leaving out the accounts in `excluded` (a block stands
    between them and the author)."""
    left_out = set(excluded)
    mentions = tuple(
        Mention(user_ids[m.username.lower()], m.username, m.start, m.end)
        for m in parsed.mentions
        if m.username.lower() in user_ids and user_ids[m.username.lower()] not in left_out
    )
    return Entities(mentions, parsed.hashtags, parsed.urls)


# --- who may see what -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """How a viewer stands towards an author, read from the viewer's side."""

    following: bool = False  # the viewer is an approved follower of the author
    blocking: bool = False  # the viewer blocks the author
    blocked_by: bool = False  # the author blocks the viewer


NO_RELATION = Relation()


def can_see(viewer_id: int, author_id: int, *, author_exists: bool, author_private: bool,
            relation: Relation = NO_RELATION) -> bool:
    """Whether a viewer (0: signed out) may see a live tweet of an author.

    The author sees their own; nobody sees the tweets of an account that is gone; a block either
    way hides; a private author's tweets are for approved followers only.
    """
    if not author_exists:
        return False
    if viewer_id and viewer_id == author_id:
        return True
    if relation.blocking or relation.blocked_by:
        return False
    return not author_private or (bool(viewer_id) and relation.following)


def tweet_not_found() -> NotFound:
    """The one answer for a tweet that is unknown, gone, or hidden from the caller: nothing in it
    tells them apart."""
    return NotFound("TWEET_NOT_FOUND", "No such tweet.")


def check_reply_target(visible: bool, relation: Relation) -> None:
    """A reply needs a live tweet the author may see; a block by its author is said as such.

    Raises PERMISSION_DENIED (BLOCKED_BY_AUTHOR) when the replied-to tweet's author blocks the
    replier, and NOT_FOUND (TWEET_NOT_FOUND) when the tweet is otherwise hidden.
    """
    if relation.blocked_by:
        raise PermissionDenied("BLOCKED_BY_AUTHOR", "You cannot reply to this account's tweets.")
    if not visible:
        raise tweet_not_found()


def check_quote_target(visible: bool, quoter_id: int, author_id: int, author_private: bool) -> None:
    """A quote needs a tweet the quoter may see, and one of a public account (or the quoter's own)."""
    if not visible:
        raise tweet_not_found()
    if author_private and author_id != quoter_id:
        raise PermissionDenied("PROTECTED_TWEET", "Tweets of a private account cannot be quoted.")


def batch_ids(ids: Iterable[int]) -> list[int]:
    """The distinct positive ids of a batch request, in order; at most BATCH_LIMIT distinct ones."""
    distinct = list(dict.fromkeys(ids))
    if len(distinct) > BATCH_LIMIT:
        raise InvalidArgument("TOO_MANY_IDS", f"Ask for at most {BATCH_LIMIT} tweets at once.", {"field": "ids"})
    return [i for i in distinct if i > 0]


# --- popularity -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Engagement:
    likes: int = 0
    retweets: int = 0
    replies: int = 0
    quotes: int = 0


def popularity(engagement: Engagement, poll_votes: int = 0) -> int:
    """How engaged-with a tweet is, for cold start: shares count double, every other act once."""
    return (engagement.likes + engagement.replies + poll_votes
            + 2 * (engagement.retweets + engagement.quotes))
