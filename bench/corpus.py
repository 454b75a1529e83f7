"""The seeded corpus: tweets, replies, likes and retweets, made from a fixed random seed (the same seed
and graph give the same corpus), as the domain objects the stores' bulk paths take.

Activity is simulated over the `SPAN_DAYS` before the run, in time order, one action at a time:
half the tweets come from accounts in proportion to their followers, half from anyone; replies,
likes and retweets go to tweets already posted, mostly recent ones. Each action's Snowflake id is
made at its simulated time, with the worker id of the service that would have made it, so ids sort
as the actions happened and never collide with the ones the running mesh makes later. Tweets are
made as `TweetService` makes them: entities parsed by `services.tweet.domain.parse_entities` and
resolved against the seeded accounts, the language detected by `services.tweet.language`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from bench.dataset import Graph, seed_text
from services.engagement.domain import ChildTweet, Kind, Mark
from services.runtime.ids import SnowflakeGenerator
from services.runtime.topology import service
from services.timeline.domain import Entry, retweet_entry, tweet_entry
from services.tweet import domain as tweet_domain
from services.tweet.domain import Tweet
from services.tweet.language import detect_language

SPAN_DAYS = 7
# Of every 100 actions: 40 likes, 6 retweets, 16 replies, the rest new tweets. So tweets and replies
# are 54 % of the actions, and a corpus of N of them holds about 0.74 N likes and 0.11 N retweets.
LIKE, RETWEET, REPLY = 0.40, 0.46, 0.62
TWEETS_SHARE = 1.0 - RETWEET  # new tweets and replies


@dataclass
class Corpus:
    tweets: list[Tweet] = field(default_factory=list)  # in time order; replies among them
    authors: list[int] = field(default_factory=list)  # each tweet's author, as a user index
    marks: list[Mark] = field(default_factory=list)  # likes and retweets
    children: list[ChildTweet] = field(default_factory=list)  # the replies, as engagement counts them
    entries: list[Entry] = field(default_factory=list)  # user-timeline entries: every tweet and retweet

    def count(self, kind: Kind) -> int:
        return sum(1 for m in self.marks if m.kind is kind)


class _Clock:
    """The simulated time Snowflake generators read: set before each id is made."""

    def __init__(self) -> None:
        self.now_ms = 0

    def __call__(self) -> int:
        return self.now_ms


def build_corpus(graph: Graph, user_ids: list[int], usernames: list[str], tweets: int, seed: int,
                 *, now_ms: int | None = None) -> Corpus:
    """About `tweets` tweets and replies, with the likes and retweets of the same simulated week."""
    rng = random.Random(seed)
    clock = _Clock()
    tweet_ids = SnowflakeGenerator(service("tweet").worker_id, clock_ms=clock)
    mark_ids = SnowflakeGenerator(service("engagement").worker_id, clock_ms=clock)
    end_ms = now_ms if now_ms is not None else int(time.time() * 1000) - 60_000
    actions = max(1, round(tweets / TWEETS_SHARE))
    moments = sorted(rng.randrange(end_ms - SPAN_DAYS * 86_400_000, end_ms) for _ in range(actions))
    popular = [c + 1 for c in graph.followers_count]
    cumulative = [0] * len(popular)
    total = 0
    for i, weight in enumerate(popular):
        total += weight
        cumulative[i] = total
    resolve = {name.lower(): uid for name, uid in zip(usernames, user_ids)}
    corpus = Corpus()
    marked: set[tuple[Kind, int, int]] = set()

    def author() -> int:
        if rng.random() < 0.5:
            return rng.choices(range(len(user_ids)), cum_weights=cumulative)[0]
        return rng.randrange(len(user_ids))

    def recent() -> int:
        """A posted tweet's position, most often a recent one."""
        have = len(corpus.tweets)
        return max(0, have - 1 - int(rng.expovariate(1 / max(50.0, have / 20))))

    def post(by: int, parent_position: int | None = None) -> None:
        parent = corpus.tweets[parent_position] if parent_position is not None else None
        text = seed_text(rng, usernames)
        if parent_position is not None:
            text = f"@{usernames[corpus.authors[parent_position]]} {text}"[:280]
        parsed = tweet_domain.parse_entities(text)
        spans = [(e.start, e.end) for e in (*parsed.mentions, *parsed.hashtags, *parsed.urls)]
        tweet_id = tweet_ids.next_id()
        tweet = Tweet(
            id=tweet_id, author_id=user_ids[by], text=text,
            conversation_id=parent.conversation_id if parent else tweet_id,
            reply_to_id=parent.id if parent else 0,
            entities=tweet_domain.resolve_entities(parsed, resolve), language=detect_language(text, spans),
        )
        corpus.tweets.append(tweet)
        corpus.authors.append(by)
        corpus.entries.append(tweet_entry(tweet.id, tweet.author_id))
        if parent is not None:
            corpus.children.append(ChildTweet(tweet.id, reply_to_id=parent.id))

    for moment in moments:
        clock.now_ms = moment
        roll = rng.random()
        if not corpus.tweets or roll >= REPLY:
            post(author())
            continue
        position = recent()
        target = corpus.tweets[position]
        if roll >= RETWEET:
            post(author(), position)
            continue
        kind = Kind.LIKE if roll < LIKE else Kind.RETWEET
        by = rng.randrange(len(user_ids))
        if user_ids[by] == target.author_id or (kind, by, target.id) in marked:
            continue  # one's own tweet, or marked already: the action is lost, as a repeated tap is
        marked.add((kind, by, target.id))
        mark = Mark(kind, target.id, user_ids[by], target.author_id, mark_ids.next_id())
        corpus.marks.append(mark)
        if kind is Kind.RETWEET:
            corpus.entries.append(retweet_entry(mark.seq, target.id, target.author_id, mark.user_id))
    return corpus
