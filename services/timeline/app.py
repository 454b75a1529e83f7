"""Composition root: settings -> store (CHIRP_TIMELINE_STORE), cache, peer stubs, NATS -> reader, fan-out,
consumers -> App."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc

from chirp.engagement.v1 import engagement_service_pb2_grpc
from chirp.graph.v1 import graph_service_pb2_grpc
from chirp.timeline.v1 import timeline_service_pb2, timeline_service_pb2_grpc
from chirp.tweet.v1 import tweet_service_pb2_grpc
from chirp.user.v1 import user_service_pb2_grpc
from services.runtime import events, valkey
from services.runtime.cursors import CursorCodec
from services.runtime.jwks import user_service_verifier
from services.runtime.logging import get_logger
from services.runtime.revocation import Revocations
from services.runtime.server import App
from services.timeline.cache import TimelineCache
from services.timeline.consumers import TimelineHandlers
from services.timeline.fanout import Fanout
from services.timeline.hydration import Hydrator
from services.timeline.peers import EngagementClient, GraphClient, TweetClient, UserClient
from services.timeline.reader import TimelineReader
from services.timeline.servicer import TimelineServicer
from services.timeline.settings import Settings
from services.timeline.store.base import TimelineStore
from services.timeline.store.scylla import ScyllaTimelineStore
from services.timeline.store.sqlite import SqliteTimelineStore
from services.timeline.updates import Updates

SERVICE_NAME = timeline_service_pb2.DESCRIPTOR.services_by_name["TimelineService"].full_name
CONSUMED_DOMAINS = ("tweet", "engagement", "graph", "user")

BackgroundLoop = Callable[[], Awaitable[None]]

log = get_logger("chirp.timeline")


def purger(store: TimelineStore, interval_s: float) -> Callable[[], Awaitable[None]]:
    """A background loop that drops expired persisted entries every interval_s."""

    async def purge_expired() -> None:
        while True:
            try:
                purged = await store.purge_expired()
                if purged:
                    log.info("expired home entries purged", entries=purged)
            except Exception as exc:  # a failed purge is retried at the next interval
                log.warning("purge failed", error=repr(exc))
            await asyncio.sleep(interval_s)

    return purge_expired


async def open_store(settings: Settings) -> tuple[TimelineStore, list[BackgroundLoop]]:
    """The store CHIRP_TIMELINE_STORE names and the loops it needs run (SQLite: the purge; ScyllaDB
    expires home entries by TTL)."""
    if settings.store == "scylla":
        assert settings.scylla is not None  # Settings refuses scylla without CHIRP_SCYLLA_HOSTS
        return await ScyllaTimelineStore.connect(settings.scylla, retention_s=settings.retention_s), []
    store = SqliteTimelineStore(settings.common.data_dir / "timeline.db", retention_s=settings.retention_s)
    return store, [purger(store, settings.purge_interval_s)]


async def build(settings: Settings) -> App:
    store, store_loops = await open_store(settings)
    try:
        return await _build(settings, store, store_loops)
    except BaseException:
        await store.close()
        raise


async def _build(settings: Settings, store: TimelineStore, store_loops: list[BackgroundLoop]) -> App:
    common = settings.common
    client = valkey.connect(common.valkey_url)
    cache = TimelineCache(client, cap=settings.cap, ttl_s=settings.cache_ttl_s,
                          celebs_ttl_s=settings.celebrity_cache_ttl_s)

    nc = await events.connect(common.nats_url, name="chirp-timeline")
    js = nc.jetstream()
    for domain_name in CONSUMED_DOMAINS:  # whichever service starts first makes the stream
        await events.ensure_stream(js, domain_name)
    updates = Updates(nc)

    channels = {
        name: grpc.aio.insecure_channel(address)
        for name, address in (("user", common.user_service_addr), ("graph", settings.graph_service_addr),
                              ("tweet", settings.tweet_service_addr),
                              ("engagement", settings.engagement_service_addr))
    }
    deadline = settings.downstream_timeout_s
    users = UserClient(user_service_pb2_grpc.UserServiceStub(channels["user"]), deadline)
    graph = GraphClient(graph_service_pb2_grpc.GraphServiceStub(channels["graph"]), deadline)
    tweets = TweetClient(tweet_service_pb2_grpc.TweetServiceStub(channels["tweet"]), deadline)
    engagement = EngagementClient(engagement_service_pb2_grpc.EngagementServiceStub(channels["engagement"]), deadline)

    reader = TimelineReader(
        store, cache, Hydrator(tweets, users, graph, engagement), tweets, graph, users,
        celebrity_threshold=settings.celebrity_threshold,
        rebuild_followees=settings.rebuild_followees,
        rebuild_tweets_per_followee=settings.rebuild_tweets_per_followee,
        rebuild_fallback_followees=settings.rebuild_fallback_followees,
    )
    fanout = Fanout(store, cache, graph, updates, celebrity_threshold=settings.celebrity_threshold,
                    page_size=settings.fanout_page_size, stream_timeout_s=settings.fanout_stream_timeout_s)
    consumers = [
        events.DurableConsumer(js, c.stream, c.durable, c.filter_subject, c.handler, ack_wait_s=settings.ack_wait_s)
        for c in TimelineHandlers(fanout).consumptions()
    ]
    servicer = TimelineServicer(reader, CursorCodec(common.local_secret("cursor")), updates, Revocations(client),
                                session_check_s=settings.stream_session_check_s)

    async def close_channels() -> None:
        for channel in channels.values():
            await channel.close()

    # nc.close, not nc.drain: the consumers are stopped before the closers run, and a drain would wait
    # out the pull requests the cancelled consumers left behind.
    return App(
        servicers=[(timeline_service_pb2_grpc.add_TimelineServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=user_service_verifier(common),
        background=[*(c.run for c in consumers), *store_loops],
        closers=[nc.close, close_channels, client.aclose, store.close],
    )
