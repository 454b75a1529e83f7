"""Composition root: settings -> store, peer stubs, NATS -> servicer, relay, consumer -> App."""

from __future__ import annotations

import grpc

from chirp.engagement.v1 import engagement_service_pb2_grpc
from chirp.graph.v1 import graph_service_pb2_grpc
from chirp.tweet.v1 import tweet_service_pb2, tweet_service_pb2_grpc
from chirp.user.v1 import user_service_pb2_grpc
from services.runtime import events
from services.runtime.cursors import CursorCodec
from services.runtime.ids import SnowflakeGenerator
from services.runtime.jwks import user_service_verifier
from services.runtime.outbox import OutboxRelay, OutboxSource
from services.runtime.scylla import BackgroundLoop, close_on_failure, open_chosen_store
from services.runtime.server import App
from services.tweet.consumers import USER_DELETED_DURABLE, UserDeletedHandler
from services.tweet.peers import EngagementClient, GraphClient, UserClient
from services.tweet.reader import TweetReader
from services.tweet.servicer import TweetServicer
from services.tweet.settings import Settings
from services.tweet.store.base import TweetStore
from services.tweet.store.scylla import ScyllaTweetStore
from services.tweet.store.sqlite import SqliteTweetStore

SERVICE_NAME = tweet_service_pb2.DESCRIPTOR.services_by_name["TweetService"].full_name


async def open_store(settings: Settings) -> tuple[TweetStore, OutboxSource, list[BackgroundLoop]]:
    """The store CHIRP_TWEET_STORE names, its outbox (for the relay) and the loops it needs run."""
    return await open_chosen_store(settings, ScyllaTweetStore,
                                   lambda: SqliteTweetStore(settings.common.data_dir / "tweet.db"))


async def build(settings: Settings) -> App:
    store, outbox, store_loops = await open_store(settings)
    return await close_on_failure(store, _build(settings, store, outbox, store_loops))


async def _build(settings: Settings, store: TweetStore, outbox: OutboxSource, store_loops: list[BackgroundLoop]) -> App:
    common = settings.common
    nc = await events.connect(common.nats_url, name="chirp-tweet")
    js = nc.jetstream()
    await events.ensure_stream(js, "tweet")
    await events.ensure_stream(js, "user")  # consumed here; whichever service starts first makes it
    relay = OutboxRelay(outbox, events.EventPublisher(js))
    consumer = events.DurableConsumer(
        js, events.stream_name("user"), USER_DELETED_DURABLE, events.subject("user", "deleted"),
        UserDeletedHandler(store),
    )

    deadline = settings.downstream_timeout_s
    user_channel = grpc.aio.insecure_channel(common.user_service_addr)
    graph_channel = grpc.aio.insecure_channel(settings.graph_service_addr)
    engagement_channel = grpc.aio.insecure_channel(settings.engagement_service_addr)
    users = UserClient(user_service_pb2_grpc.UserServiceStub(user_channel), deadline)
    graph = GraphClient(graph_service_pb2_grpc.GraphServiceStub(graph_channel), deadline)
    engagement = EngagementClient(engagement_service_pb2_grpc.EngagementServiceStub(engagement_channel), deadline)
    servicer = TweetServicer(
        store, TweetReader(store, users, graph), users, engagement, SnowflakeGenerator(common.worker_id),
        CursorCodec(common.local_secret("cursor")), relay,
        popular_window_s=settings.popular_window_s, popular_candidates=settings.popular_candidates,
    )

    # nc.close, not nc.drain: the relay and the consumer are stopped before the closers run, so nothing
    # is in flight, and a drain would wait on the pull request the cancelled consumer left behind.
    return App(
        servicers=[(tweet_service_pb2_grpc.add_TweetServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=user_service_verifier(common),
        background=[relay.run, consumer.run, *store_loops],
        closers=[nc.close, user_channel.close, graph_channel.close, engagement_channel.close, store.close],
    )
