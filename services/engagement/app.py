"""Composition root: settings -> store, tweet/user/graph stubs, NATS -> servicer, relay, consumer -> App."""

from __future__ import annotations

import grpc

from chirp.engagement.v1 import engagement_service_pb2, engagement_service_pb2_grpc
from chirp.graph.v1 import graph_service_pb2_grpc
from chirp.tweet.v1 import tweet_service_pb2_grpc
from chirp.user.v1 import user_service_pb2_grpc
from services.engagement.consumers import TWEET_EVENTS_DURABLE, TWEET_EVENTS_SUBJECT, TweetEventsHandler
from services.engagement.peers import Graph, Tweets, Users
from services.engagement.servicer import EngagementServicer
from services.engagement.settings import Settings
from services.engagement.store.base import EngagementStore
from services.engagement.store.scylla import ScyllaEngagementStore
from services.engagement.store.sqlite import SqliteEngagementStore
from services.runtime import events
from services.runtime.cursors import CursorCodec
from services.runtime.ids import SnowflakeGenerator
from services.runtime.jwks import user_service_verifier
from services.runtime.outbox import OutboxRelay, OutboxSource
from services.runtime.scylla import BackgroundLoop, close_on_failure, open_chosen_store
from services.runtime.server import App

SERVICE_NAME = engagement_service_pb2.DESCRIPTOR.services_by_name["EngagementService"].full_name


async def open_store(settings: Settings) -> tuple[EngagementStore, OutboxSource, list[BackgroundLoop]]:
    """The store CHIRP_ENGAGEMENT_STORE names, its outbox (for the relay) and the loops it needs run."""
    return await open_chosen_store(settings, ScyllaEngagementStore,
                                   lambda: SqliteEngagementStore(settings.common.data_dir / "engagement.db"))


async def build(settings: Settings) -> App:
    store, outbox, store_loops = await open_store(settings)
    return await close_on_failure(store, _build(settings, store, outbox, store_loops))


async def _build(settings: Settings, store: EngagementStore, outbox: OutboxSource,
                 store_loops: list[BackgroundLoop]) -> App:
    common = settings.common
    nc = await events.connect(common.nats_url, name="chirp-engagement")
    js = nc.jetstream()
    await events.ensure_stream(js, "engagement")
    await events.ensure_stream(js, "tweet")  # consumed here; whichever service starts first makes it
    relay = OutboxRelay(outbox, events.EventPublisher(js))
    consumer = events.DurableConsumer(
        js, events.stream_name("tweet"), TWEET_EVENTS_DURABLE, TWEET_EVENTS_SUBJECT, TweetEventsHandler(store))

    timeout_s = settings.downstream_timeout_s
    tweet_channel = grpc.aio.insecure_channel(settings.tweet_service_addr)
    user_channel = grpc.aio.insecure_channel(common.user_service_addr)
    graph_channel = grpc.aio.insecure_channel(settings.graph_service_addr)
    servicer = EngagementServicer(
        store,
        Tweets(tweet_service_pb2_grpc.TweetServiceStub(tweet_channel), timeout_s=timeout_s),
        Users(user_service_pb2_grpc.UserServiceStub(user_channel), timeout_s=timeout_s),
        Graph(graph_service_pb2_grpc.GraphServiceStub(graph_channel), timeout_s=timeout_s),
        SnowflakeGenerator(common.worker_id),
        CursorCodec(common.local_secret("cursor")),
        relay,
    )

    # nc.close, not nc.drain: the relay and the consumer are stopped before the closers run, so nothing
    # is in flight, and a drain would wait 30 s on the pull request the cancelled consumer left behind.
    return App(
        servicers=[(engagement_service_pb2_grpc.add_EngagementServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=user_service_verifier(common),
        background=[relay.run, consumer.run, *store_loops],
        closers=[nc.close, tweet_channel.close, user_channel.close, graph_channel.close, store.close],
    )
