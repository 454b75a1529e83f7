"""Seeding: the whole dataset goes into the stores through their adapters, before the mesh opens them.

Accounts (`services.user.store.sqlite`): `create_account` per user with ONE precomputed argon2id hash
(every bench user has the password `bench password 1`; hashing 10,000 passwords is what signup is
deliberately slow at), a session each, and a signing key added the way the user service adds its
first one. Access tokens are then signed with that key for those sessions, exactly as the user
service's TokenIssuer signs them at login (with a longer lifetime, so a 25-minute run needs no
refresh).

Follows (`services.graph.store.sqlite`): the store's own bulk path, `apply()` with one plan per
follower holding all of its follows, so counters move as the service moves them.

Tweets, replies, likes and retweets (`bench/corpus.py`): a simulated week of activity, loaded
through the stores' bulk paths: `TweetStore.load_tweets`, `EngagementStore.load_marks` and
`load_children` (the replies counted on their parents), `TimelineStore.add_user_entries` (each
account's own tweets and retweets, which home timelines are rebuilt from). Home timelines are not
loaded: the timeline service builds each from that index on its first read, as it does for an
account whose cached timeline was evicted.

No events are staged for any of it: the dataset stands as if its events had long been consumed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench.corpus import SPAN_DAYS, Corpus, build_corpus
from bench.dataset import PASSWORD, Graph, username

T = TypeVar("T")
TOKEN_TTL_S = 3 * 3600
LOAD_CHUNK = 5_000  # items per bulk-load call: one transaction each


@dataclass
class SeededUser:
    id: int
    username: str
    session_id: str
    token: str = ""


@dataclass
class Seeded:
    users: list[SeededUser]
    graph: Graph
    tweet_ids: list[int] = field(default_factory=list)
    tweet_authors: list[int] = field(default_factory=list)  # index of each tweet's author
    report: dict[str, Any] = field(default_factory=dict)

    def ids(self, indices: list[int]) -> list[int]:
        return [self.users[i].id for i in indices]

    def write_for_workers(self, path: Path, edge_port: int) -> None:
        """What the load-generator processes need, as one JSON file they load once."""
        weights = [c + 1 for c in self.graph.followers_count]
        authors_with_tweets = sorted(set(self.tweet_authors))
        path.write_text(json.dumps({
            "edge_port": edge_port,
            "users": [[u.id, u.username, u.token] for u in self.users],
            "popularity": weights,
            "tweet_ids": self.tweet_ids,
            "authors_with_tweets": authors_with_tweets,
        }))


# --- before the mesh: the stores ------------------------------------------------------------------


async def seed_stores(data_dir: Path, graph: Graph, seed: int, *, tweets: int, jwt_issuer: str,
                      jwt_audience: str) -> Seeded:
    from argon2 import PasswordHasher

    from services.graph.domain import Change, Effect, Plan, Relationship
    from services.graph.store.sqlite import SqliteGraphStore
    from services.runtime.ids import SnowflakeGenerator
    from services.runtime.topology import service
    from services.user.domain import Account
    from services.user.store.base import RefreshGrant, Session
    from services.user.store.sqlite import SqliteUserStore
    from services.user.tokens import SigningKey, TokenIssuer

    rng = random.Random(seed)
    user_ids = SnowflakeGenerator(service("user").worker_id)
    users = [SeededUser(user_ids.next_id(), username(i), rng.getrandbits(96).to_bytes(12, "big").hex())
             for i in range(graph.size)]
    password_hash = PasswordHasher().hash(PASSWORD)
    report: dict[str, Any] = {}

    user_store = SqliteUserStore(data_dir / "user" / "user.db")
    graph_store = SqliteGraphStore(data_dir / "graph" / "graph.db")
    # One fsync per transaction is what a service wants; a seed that can be redone from scratch
    # does not (the setting is per connection and ends with it).
    for database in (user_store.database, graph_store.database):
        await database.read(lambda c: c.execute("PRAGMA synchronous=OFF"))

    async def accounts() -> None:
        started = time.monotonic()
        now = time.time()
        created = datetime.now(UTC)
        for user in users:
            session = Session(user.session_id, user.id, now, now + 30 * 86400)
            grant = RefreshGrant(hashlib.sha256(secrets.token_bytes(16)).hexdigest(), session.id, user.id,
                                 session.expires_at)
            account = Account(user.id, user.username, f"{user.username}@bench.example.com", user.username.title(),
                              "", "", "", "", False, created)
            await user_store.create_account(account, password_hash, session, grant, [])
        keys = await user_store.signing_keys() or await user_store.add_signing_key_if_none(SigningKey.generate())
        issuer = TokenIssuer(keys, issuer=jwt_issuer, audience=jwt_audience, ttl_s=TOKEN_TTL_S)
        for user in users:
            user.token = issuer.issue(user.id, user.session_id).token
        report["users"] = {"count": len(users), "seconds": round(time.monotonic() - started, 2),
                           "via": "services.user.store.sqlite.SqliteUserStore.create_account (precomputed hash)"}

    async def follows() -> None:
        started = time.monotonic()
        seqs = SnowflakeGenerator(service("graph").worker_id)
        for follower, followees in enumerate(graph.following):
            if not followees:
                continue
            me = users[follower].id
            targets = [users[j].id for j in followees]

            def plan(rels: dict[int, Relationship], me: int = me, targets: list[int] = targets) -> Plan:
                return Plan(tuple(Change(Effect.FOLLOWED, me, t, seqs.next_id())
                                  for t in targets if not rels[t].following))

            await graph_store.apply(me, targets, plan, lambda changes: [])
        report["follows"] = {
            "count": graph.edges, "seconds": round(time.monotonic() - started, 2),
            "mean_followers": round(graph.edges / graph.size, 1),
            "max_followers_ordinary": max(
                (c for i, c in enumerate(graph.followers_count)
                 if i not in graph.celebrities and i not in graph.fanout_authors.values()), default=0),
            "celebrity_followers": [graph.followers_count[c] for c in graph.celebrities],
            "fanout_author_followers": {str(t): graph.followers_count[a] for t, a in graph.fanout_authors.items()},
            "via": "services.graph.store.sqlite.SqliteGraphStore.apply (one plan per follower)",
        }

    async def corpus() -> Corpus:
        started = time.monotonic()
        # Built on a thread of its own: the accounts and follows spend their time inside SQLite.
        made = await asyncio.to_thread(build_corpus, graph, [u.id for u in users], [u.username for u in users],
                                       tweets, seed + 1)
        report["corpus_build_seconds"] = round(time.monotonic() - started, 2)
        return made

    try:
        _, _, made = await asyncio.gather(accounts(), follows(), corpus())
    finally:
        await user_store.close()
        await graph_store.close()
    report["tweets"] = await load_corpus(data_dir, made)
    seeded = Seeded(users, graph, report=report)
    seeded.tweet_ids = [t.id for t in made.tweets]
    seeded.tweet_authors = made.authors
    return seeded


async def load_corpus(data_dir: Path, corpus: Corpus) -> dict[str, Any]:
    """Loads the corpus through the tweet, engagement and timeline stores' bulk paths, a chunk per
    transaction; returns what each stored and how long it took."""
    from services.engagement.domain import Kind
    from services.engagement.store.sqlite import SqliteEngagementStore
    from services.timeline.store.sqlite import SqliteTimelineStore
    from services.tweet.store.sqlite import SqliteTweetStore

    started = time.monotonic()
    tweet_store = SqliteTweetStore(data_dir / "tweet" / "tweet.db")
    engagement_store = SqliteEngagementStore(data_dir / "engagement" / "engagement.db")
    timeline_store = SqliteTimelineStore(data_dir / "timeline" / "timeline.db", retention_s=30 * 86400)
    stores = (tweet_store, engagement_store, timeline_store)
    for store in stores:
        await store.database.read(lambda c: c.execute("PRAGMA synchronous=OFF"))

    async def chunked(load: Callable[[Sequence[T]], Awaitable[int | None]], items: Sequence[T]) -> int:
        stored = 0
        for start in range(0, len(items), LOAD_CHUNK):
            stored += await load(items[start:start + LOAD_CHUNK]) or 0
        return stored

    try:
        stored_tweets, stored_marks, stored_children, _ = await asyncio.gather(
            chunked(tweet_store.load_tweets, corpus.tweets),
            chunked(engagement_store.load_marks, corpus.marks),
            chunked(engagement_store.load_children, corpus.children),
            chunked(timeline_store.add_user_entries, corpus.entries),
        )
    finally:
        for store in stores:
            await store.close()
    return {
        "tweets": len(corpus.tweets) - len(corpus.children),
        "replies": len(corpus.children),
        "likes": corpus.count(Kind.LIKE),
        "retweets": corpus.count(Kind.RETWEET),
        "user_timeline_entries": len(corpus.entries),
        "stored": {"tweets_and_replies": stored_tweets, "marks": stored_marks, "replies_counted": stored_children},
        "span_days": SPAN_DAYS,
        "seconds": round(time.monotonic() - started, 2),
        "via": "TweetStore.load_tweets, EngagementStore.load_marks/load_children, "
               "TimelineStore.add_user_entries (SQLite adapters, chunks of 5,000)",
    }
