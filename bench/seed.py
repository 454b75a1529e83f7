"""Seeding: accounts and follows through the stores' adapters before the mesh starts; tweets, replies,
likes and retweets through the services' own RPCs once the mesh runs and those services answer.

Accounts (`services.user.store.sqlite`): `create_account` per user with ONE precomputed argon2id hash
(every bench user has the password `bench password 1`; hashing 10,000 passwords is what signup is
deliberately slow at), a session each, and a signing key added the way the user service adds its
first one. Access tokens are then signed with that key for those sessions, exactly as the user
service's TokenIssuer signs them at login (with a longer lifetime, so a 25-minute run needs no
refresh). No events are staged: the accounts stand as if their `user created` events had long been
consumed.

Follows (`services.graph.store.sqlite`): the store's own bulk path, `apply()` with one plan per
follower holding all of its follows, so counters move as the service moves them. No `followed`
events are staged either: no timeline exists yet to backfill.

Tweets: `TweetService.CreateTweet`/`CreateReply` and `EngagementService.LikeTweet`/`Retweet`, called
straight on the services' ports with each author's token, many in flight, for at most the mode's
time budget; the fan-out they cause runs as it would in production, and seeding waits (boundedly)
until every outbox is relayed and every JetStream consumer has caught up. While a service answers
UNIMPLEMENTED, its part is reported as not available. The tweet and engagement stores have no bulk
path yet; when they grow one, `seed_tweets` is the one place to use it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import secrets
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from bench.dataset import PASSWORD, Graph, seed_text, username
from bench.modes import Mode

TOKEN_TTL_S = 3 * 3600
# Events the pipeline may hold (outboxes plus unacknowledged JetStream messages) before seeding
# waits for it to catch up.
MAX_BACKLOG = 500


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


async def seed_stores(data_dir: Path, graph: Graph, seed: int, *, jwt_issuer: str, jwt_audience: str) -> Seeded:
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

    try:
        await asyncio.gather(accounts(), follows())
    finally:
        await user_store.close()
        await graph_store.close()
    return Seeded(users, graph, report=report)


# --- after the mesh starts: tweets and engagement through RPCs -----------------------------------


def _auth(user: SeededUser) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {user.token}")]


async def seed_tweets(
    seeded: Seeded, mode: Mode, seed: int, *, tweet_addr: str, engagement_addr: str,
    tweet_available: str | None, engagement_available: str | None, data_dir: Path, nats_url: str,
) -> dict[str, Any]:
    """Creates tweets (and replies), likes and retweets through the services' RPCs, for at most the
    mode's budget. `*_available` is None when the service answers, else the reason it does not.

    Creating tweets is cheap next to fanning them out, so seeding holds back while the event
    pipeline has more than `MAX_BACKLOG` events to work through: the dataset grows only as fast as
    the mesh absorbs it, and the scenarios do not start in the shadow of a fan-out backlog."""
    from chirp.engagement.v1 import engagement_service_pb2 as epb
    from chirp.engagement.v1 import engagement_service_pb2_grpc as erpc
    from chirp.tweet.v1 import tweet_service_pb2 as tpb
    from chirp.tweet.v1 import tweet_service_pb2_grpc as trpc

    if tweet_available is not None:
        return {"available": False, "reason": tweet_available}
    rng = random.Random(seed + 1)
    users = seeded.users
    names = [u.username for u in users]
    popular = list(itertools.accumulate(c + 1 for c in seeded.graph.followers_count))
    counts: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    started = time.monotonic()
    deadline = started + mode.tweet_seed_budget_s
    concurrency = 48
    tweet_channel = grpc.aio.insecure_channel(tweet_addr)
    engagement_channel = grpc.aio.insecure_channel(engagement_addr)
    tweets = trpc.TweetServiceStub(tweet_channel)
    engagement = erpc.EngagementServiceStub(engagement_channel)
    engage = engagement_available is None

    def next_op() -> tuple[str, int, int]:
        """(kind, author index, target tweet position or -1)."""
        have = len(seeded.tweet_ids)
        roll = rng.random()
        # Half the tweets from accounts in proportion to their followers, half from anyone.
        author = rng.choices(range(len(users)), cum_weights=popular)[0] if rng.random() < 0.5 else rng.randrange(len(users))
        if have and engage and roll < 0.25:
            return "like", rng.randrange(len(users)), rng.randrange(have)
        if have and engage and roll < 0.30:
            return "retweet", rng.randrange(len(users)), rng.randrange(have)
        if have and roll < 0.45:
            return "reply", author, rng.randrange(have)
        return "tweet", author, -1

    async def run_one(kind: str, author: int, target: int) -> None:
        user = users[author]
        try:
            if kind == "tweet":
                reply = await tweets.CreateTweet(
                    tpb.CreateTweetRequest(text=seed_text(rng, names)), metadata=_auth(user), timeout=10)
                seeded.tweet_ids.append(reply.tweet_id)
                seeded.tweet_authors.append(author)
            elif kind == "reply":
                reply = await tweets.CreateReply(
                    tpb.CreateReplyRequest(id=seeded.tweet_ids[target], text=seed_text(rng, names)),
                    metadata=_auth(user), timeout=10)
                seeded.tweet_ids.append(reply.tweet_id)
                seeded.tweet_authors.append(author)
            elif kind == "like":
                await engagement.LikeTweet(epb.LikeTweetRequest(id=seeded.tweet_ids[target]),
                                           metadata=_auth(user), timeout=10)
            else:
                await engagement.Retweet(epb.RetweetRequest(id=seeded.tweet_ids[target]),
                                         metadata=_auth(user), timeout=10)
            counts[kind] += 1
        except grpc.aio.AioRpcError as exc:
            errors[f"{kind}: {exc.code().name}"] += 1

    backlog = {"now": 0, "max": 0, "paused_s": 0.0}
    open_gate = asyncio.Event()
    open_gate.set()

    async def watch_backlog() -> None:
        paused = 0.0
        while True:
            try:
                backlog["now"] = outbox_backlog(data_dir) + await consumer_backlog(nats_url)
            except Exception:
                backlog["now"] = 0
            backlog["max"] = max(backlog["max"], backlog["now"])
            if backlog["now"] > MAX_BACKLOG:
                if open_gate.is_set():
                    paused = time.monotonic()
                    open_gate.clear()
            elif not open_gate.is_set():
                backlog["paused_s"] += time.monotonic() - paused
                open_gate.set()
            await asyncio.sleep(0.25)

    async def lane() -> None:
        while time.monotonic() < deadline and counts["tweet"] + counts["reply"] < mode.tweets:
            if sum(errors.values()) > 200 and sum(errors.values()) > sum(counts.values()):
                return  # something is broken; the report says what
            if not open_gate.is_set():
                try:
                    await asyncio.wait_for(open_gate.wait(), timeout=max(deadline - time.monotonic(), 0.01))
                except asyncio.TimeoutError:
                    return
            await run_one(*next_op())

    watcher = asyncio.create_task(watch_backlog())
    try:
        # The first tweets alone, so replies, likes and retweets have targets.
        await asyncio.gather(*(run_one("tweet", rng.randrange(len(users)), -1) for _ in range(min(concurrency, mode.tweets))))
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await tweet_channel.close()
        await engagement_channel.close()
    seconds = time.monotonic() - started
    report: dict[str, Any] = {
        "available": True,
        "target": mode.tweets,
        "tweets": counts["tweet"],
        "replies": counts["reply"],
        "likes": counts["like"],
        "retweets": counts["retweet"],
        "seconds": round(seconds, 2),
        "rate_per_s": round(sum(counts.values()) / seconds, 1) if seconds else 0.0,
        "budget_s": mode.tweet_seed_budget_s,
        "reached_target": counts["tweet"] + counts["reply"] >= mode.tweets,
        "errors": dict(errors),
        "max_pipeline_backlog": backlog["max"],
        "paused_for_pipeline_s": round(backlog["paused_s"], 1),
        "via": "TweetService.CreateTweet/CreateReply, EngagementService.LikeTweet/Retweet (gRPC, direct)",
    }
    if engagement_available is not None:
        report["engagement"] = engagement_available
    return report


# --- waiting for the event pipeline ---------------------------------------------------------------


def outbox_backlog(data_dir: Path) -> int:
    """Events staged in the services' SQLite outboxes and not yet relayed (read-only)."""
    total = 0
    for path in data_dir.glob("*/*.db"):
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
            try:
                total += conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error:
            continue
    return total


async def consumer_backlogs(nats_url: str) -> dict[str, int]:
    """Per durable consumer ("stream/consumer"): messages it has not acknowledged yet."""
    import nats

    nc = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()
        found = {}
        for stream in await js.streams_info():
            for consumer in await js.consumers_info(stream.config.name):
                found[f"{stream.config.name}/{consumer.name}"] = (
                    int(consumer.num_pending or 0) + int(consumer.num_ack_pending or 0))
        return found
    finally:
        await nc.close()


async def consumer_backlog(nats_url: str) -> int:
    return sum((await consumer_backlogs(nats_url)).values())


async def wait_for_pipeline(data_dir: Path, nats_url: str, budget_s: float) -> dict[str, Any]:
    """Waits until every outbox is relayed and every consumer caught up (twice in a row), or the budget."""
    started = time.monotonic()
    quiet = 0
    backlog = -1
    while time.monotonic() - started < budget_s:
        try:
            backlog = outbox_backlog(data_dir) + await consumer_backlog(nats_url)
        except Exception:
            backlog = -1
        quiet = quiet + 1 if backlog == 0 else 0
        if quiet >= 2:
            break
        await asyncio.sleep(0.5)
    report: dict[str, Any] = {"seconds": round(time.monotonic() - started, 2), "drained": quiet >= 2,
                              "backlog_left": backlog}
    if quiet < 2:
        try:
            report["outbox_left"] = outbox_backlog(data_dir)
            report["consumers_left"] = {k: v for k, v in (await consumer_backlogs(nats_url)).items() if v}
        except Exception as exc:
            report["consumers_left"] = repr(exc)
    return report
