"""Composition root: settings -> store, user-service stub, NATS -> servicer, relay, consumer -> App."""

from __future__ import annotations

import grpc

from chirp.graph.v1 import graph_service_pb2, graph_service_pb2_grpc
from chirp.user.v1 import user_service_pb2_grpc
from services.graph.consumers import USER_DELETED_DURABLE, UserDeletedHandler
from services.graph.directory import UserDirectory
from services.graph.servicer import GraphServicer
from services.graph.settings import Settings
from services.graph.store.base import GraphStore
from services.graph.store.scylla import ScyllaGraphStore
from services.graph.store.sqlite import SqliteGraphStore
from services.runtime import events
from services.runtime.cursors import CursorCodec
from services.runtime.ids import SnowflakeGenerator
from services.runtime.jwks import user_service_verifier
from services.runtime.outbox import OutboxRelay, OutboxSource
from services.runtime.scylla import BackgroundLoop, close_on_failure, open_chosen_store
from services.runtime.server import App

SERVICE_NAME = graph_service_pb2.DESCRIPTOR.services_by_name["GraphService"].full_name


async def open_store(settings: Settings) -> tuple[GraphStore, OutboxSource, list[BackgroundLoop]]:
    """The store CHIRP_GRAPH_STORE names, its outbox (for the relay) and the loops it needs run."""
    return await open_chosen_store(settings, ScyllaGraphStore,
                                   lambda: SqliteGraphStore(settings.common.data_dir / "graph.db"))


async def build(settings: Settings) -> App:
    store, outbox, store_loops = await open_store(settings)
    return await close_on_failure(store, _build(settings, store, outbox, store_loops))


async def _build(settings: Settings, store: GraphStore, outbox: OutboxSource, store_loops: list[BackgroundLoop]) -> App:
    common = settings.common
    ids = SnowflakeGenerator(common.worker_id)

    nc = await events.connect(common.nats_url, name="chirp-graph")
    js = nc.jetstream()
    await events.ensure_stream(js, "graph")
    await events.ensure_stream(js, "user")  # consumed here; whichever service starts first makes it
    relay = OutboxRelay(outbox, events.EventPublisher(js))
    consumer = events.DurableConsumer(
        js, events.stream_name("user"), USER_DELETED_DURABLE, events.subject("user", "deleted"),
        UserDeletedHandler(store, ids),
    )

    user_channel = grpc.aio.insecure_channel(common.user_service_addr)
    users = UserDirectory(user_service_pb2_grpc.UserServiceStub(user_channel), timeout_s=settings.user_timeout_s)
    servicer = GraphServicer(store, users, ids, CursorCodec(common.local_secret("cursor")), relay)

    # nc.close, not nc.drain: the relay and the consumer are stopped before the closers run, so nothing
    # is in flight, and a drain would wait 30 s on the pull request the cancelled consumer left behind.
    return App(
        servicers=[(graph_service_pb2_grpc.add_GraphServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=user_service_verifier(common),
        background=[relay.run, consumer.run, *store_loops],
        closers=[nc.close, user_channel.close, store.close],
    )
