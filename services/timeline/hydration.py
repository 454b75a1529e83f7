"""Turning timeline entries into what a client shows: tweets with their authors, quoted tweets, counts
and the viewer's own engagement, filtered by who the viewer may and wants to see.

However many entries a window holds, hydrating it costs one BatchGetTweets, then one
BatchGetEngagement: never a call per entry. The tweet service applies visibility and embeds each
quoted tweet, and since it reads the authors' profiles and the viewer's relationships to do so, it
answers them too (include_accounts), with those of the retweeters the window names: asking the
user and graph services again would cost two more calls a window for the same answers. Tweets
read elsewhere (`known`) take one BatchGetRelationships and one BatchGetUsers instead. Tweets read
with their accounts already (`read`: a user timeline's ListUserTweets answers the owner's tweets
so) are taken as they are, and BatchGetTweets asks only for the rest, or is not called at all.

It runs in two steps: `shown` decides which entries of a window the viewer is shown, and `items`
hydrates the ones a page takes, so the window's spare candidates cost no counts and no messages.
An engagement service that is down or not built yet costs the counts (shown as zero), never the
page.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from chirp.engagement.v1 import engagement_pb2
from chirp.timeline.v1 import timeline_pb2
from chirp.tweet.v1 import tweet_pb2
from chirp.user.v1 import user_pb2
from services.runtime.errors import Unavailable
from services.runtime.logging import get_logger
from services.timeline import domain, metrics
from services.timeline.domain import Entry, Policy, Relation
from services.timeline.peers import EngagementClient, GraphClient, Read, TweetClient, UserClient

log = get_logger("chirp.timeline.hydration")

_NO_ENGAGEMENT = engagement_pb2.TweetEngagement()


@dataclass(frozen=True)
class Shown:
    """The entries of a window the viewer is shown, before their counts: what a page takes from.
    Counts and the viewer's own engagement are read by `Hydrator.items` for the entries a page
    takes only, since a window holds spare candidates that the page may not need."""

    policy: Policy
    tweets: dict[str, tweet_pb2.Tweet]  # entry key -> its tweet, for each entry shown
    profiles: Mapping[int, user_pb2.Profile]

    @property
    def kept(self) -> dict[str, int]:
        """Entry key -> tweet id of every entry shown, for domain.take."""
        return {key: tweet.id for key, tweet in self.tweets.items()}


def hydrated_tweet(tweet: tweet_pb2.Tweet, author: user_pb2.Profile, engagement: engagement_pb2.TweetEngagement,
                   quoted: timeline_pb2.HydratedTweet | None = None) -> timeline_pb2.HydratedTweet:
    counts = engagement.counts
    hashtags: dict[str, str] = {}
    for tag in tweet.entities.hashtags:
        hashtags.setdefault(tag.tag or tag.text.lower(), tag.text)
    message = timeline_pb2.HydratedTweet(
        id=tweet.id, author=author, text=tweet.text, created_at=tweet.created_at,
        reply_to_tweet_id=tweet.reply_to_tweet_id, conversation_id=tweet.conversation_id,
        media_urls=tweet.media_urls, hashtags=list(hashtags.values()),
        mention_user_ids=list(dict.fromkeys(m.user_id for m in tweet.entities.mentions)),
        quoted_tweet_id=tweet.quote_tweet_id,
        like_count=counts.like_count, retweet_count=counts.retweet_count, reply_count=counts.reply_count,
        quote_count=counts.quote_count, bookmark_count=counts.bookmark_count,
        liked=engagement.liked, retweeted=engagement.retweeted, bookmarked=engagement.bookmarked,
    )
    if quoted is not None:
        message.quoted_tweet.CopyFrom(quoted)
    return message


class Hydrator:
    def __init__(self, tweets: TweetClient, users: UserClient, graph: GraphClient, engagement: EngagementClient) -> None:
        self._tweets = tweets
        self._users = users
        self._graph = graph
        self._engagement = engagement

    async def _engagement_of(self, viewer: int, tweet_ids: Iterable[int]) -> dict[int, engagement_pb2.TweetEngagement]:
        try:
            return await self._engagement.engagement(viewer, tweet_ids)
        except Unavailable as exc:
            log.warning("engagement unavailable; counts shown as zero", error=exc.message)
            return {}

    async def _relations(self, policy: Policy, viewer: int, user_ids: Iterable[int]) -> dict[int, Relation]:
        if policy is Policy.PROFILE:  # the tweet service's visibility is all a profile applies
            return {}
        return await self._graph.relations(viewer, user_ids)

    async def shown(
        self,
        viewer: int,
        entries: Sequence[Entry],
        *,
        policy: Policy,
        filter_: str = "",
        known: Mapping[int, tweet_pb2.Tweet] | None = None,
        read: Read | None = None,
    ) -> Shown:
        """Which of the entries the viewer is shown. `known` holds tweets already read for the viewer,
        whose accounts are asked for here; `read` holds tweets already read for the viewer with their
        accounts, and only the entries it lacks are asked for."""
        if not entries:
            return Shown(policy, {}, {})
        outcomes: Counter[str] = Counter()
        if known is None:
            answered = await self._read(viewer, entries, read or Read({}, {}, {}))
            tweets, profiles, relations = answered.tweets, answered.profiles, answered.relations
        else:
            tweets = dict(known)
            authors = [t.author_id for t in tweets.values()]
            accounts = [*authors, *(e.retweeter_id for e in entries if e.is_retweet)]
            relations, profiles = await asyncio.gather(
                self._relations(policy, viewer, accounts),
                self._users.profiles([*accounts, *(t.quoted_tweet.author_id for t in tweets.values()
                                                   if t.HasField("quoted_tweet"))]))
        shown: dict[str, tweet_pb2.Tweet] = {}
        for entry in entries:
            tweet = tweets.get(entry.tweet_id)
            if tweet is None:
                outcomes["tweet_unavailable"] += 1
                continue
            if tweet.author_id not in profiles or (entry.is_retweet and entry.retweeter_id not in profiles):
                outcomes["account_gone"] += 1
                continue  # a deleted account
            hidden = domain.hidden_because(policy, viewer, entry, tweet.author_id, relations)
            if hidden is not None:
                outcomes[hidden] += 1
                continue
            if not domain.passes_filter(filter_, entry, has_media=bool(tweet.media_urls),
                                        is_reply=bool(tweet.reply_to_tweet_id)):
                outcomes["filter"] += 1
                continue
            outcomes["shown"] += 1
            shown[entry.key] = tweet
        _count(policy, outcomes)
        return Shown(policy, shown, profiles)

    async def _read(self, viewer: int, entries: Sequence[Entry], read: Read) -> Read:
        """The entries' tweets and accounts: those in `read`, and one BatchGetTweets for the rest."""
        missing = [e for e in entries if e.tweet_id not in read.tweets]
        if not missing:
            return read
        fetched = await self._tweets.tweets_with_accounts(
            viewer, (e.tweet_id for e in missing),
            (e.retweeter_id for e in missing if e.is_retweet and e.retweeter_id not in read.profiles))
        return Read({**read.tweets, **fetched.tweets}, {**read.profiles, **fetched.profiles},
                    {**read.relations, **fetched.relations})

    async def items(self, viewer: int, entries: Sequence[Entry], shown: Shown) -> list[timeline_pb2.TimelineItem]:
        """The entries, all of them in `shown`, hydrated with their counts, in the order given."""
        if not entries:
            return []
        profiles = shown.profiles
        tweets = [shown.tweets[e.key] for e in entries]
        quoted = [t.quoted_tweet for t in tweets if t.HasField("quoted_tweet") and t.quoted_tweet.author_id in profiles]
        engagement = await self._engagement_of(viewer, [*(t.id for t in tweets), *(q.id for q in quoted)])

        def one(tweet: tweet_pb2.Tweet, inner: timeline_pb2.HydratedTweet | None = None) -> timeline_pb2.HydratedTweet:
            return hydrated_tweet(tweet, profiles[tweet.author_id], engagement.get(tweet.id, _NO_ENGAGEMENT), inner)

        items: list[timeline_pb2.TimelineItem] = []
        for entry, tweet in zip(entries, tweets):
            inner = None
            if tweet.HasField("quoted_tweet") and tweet.quoted_tweet.author_id in profiles:
                inner = one(tweet.quoted_tweet)
            item = timeline_pb2.TimelineItem(tweet=one(tweet, inner), kind=timeline_pb2.TIMELINE_ITEM_KIND_TWEET)
            if shown.policy is Policy.SUGGESTION:
                item.kind = timeline_pb2.TIMELINE_ITEM_KIND_SUGGESTION
                item.is_suggestion = True
            elif entry.is_retweet:
                item.kind = timeline_pb2.TIMELINE_ITEM_KIND_RETWEET
                item.retweeted_by.CopyFrom(profiles[entry.retweeter_id])
            items.append(item)
        return items


def _count(policy: Policy, outcomes: Counter[str]) -> None:
    for outcome, n in outcomes.items():
        if n:
            metrics.CANDIDATES.labels(policy.value, outcome).inc(n)
