"""Composition root: settings -> store, keys, clients -> servicer -> App."""

from __future__ import annotations

import json
from typing import Any

import grpc

from chirp.graph.v1 import graph_service_pb2_grpc
from chirp.tweet.v1 import tweet_service_pb2_grpc
from chirp.user.v1 import user_service_pb2, user_service_pb2_grpc
from services.runtime import events, valkey
from services.runtime.auth import TokenVerifier
from services.runtime.ids import SnowflakeGenerator
from services.runtime.outbox import OutboxRelay, OutboxSource
from services.runtime.revocation import Revocations
from services.runtime.scylla import BackgroundLoop, close_on_failure, open_chosen_store
from services.runtime.server import App
from services.user.counts import ProfileCounts
from services.user.graph_client import GraphClient
from services.user.mail import Mailer, MaildirMailer, SmtpMailer
from services.user.passwords import Passwords
from services.user.servicer import UserServicer
from services.user.sessions import Sessions
from services.user.settings import Settings
from services.user.store.base import UserStore
from services.user.store.scylla import ScyllaUserStore
from services.user.store.sqlite import SqliteUserStore
from services.user.tokens import SigningKey, TokenIssuer

SERVICE_NAME = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


async def build(settings: Settings) -> App:
    store: UserStore
    store, outbox, store_loops = await open_chosen_store(
        settings, ScyllaUserStore, lambda: SqliteUserStore(settings.common.data_dir / "user.db"))
    return await close_on_failure(store, _build(settings, store, outbox, store_loops))


async def _build(settings: Settings, store: UserStore, outbox: OutboxSource, store_loops: list[BackgroundLoop]) -> App:
    common = settings.common
    keys = await store.signing_keys() or await store.add_signing_key_if_none(SigningKey.generate())
    issuer = TokenIssuer(keys, issuer=common.jwt_issuer, audience=common.jwt_audience,
                         ttl_s=settings.access_token_ttl_s)

    nc = await events.connect(common.nats_url, name="chirp-user")
    js = nc.jetstream()
    await events.ensure_stream(js, "user")
    relay = OutboxRelay(outbox, events.EventPublisher(js))
    cache = valkey.connect(common.valkey_url)
    revocations = Revocations(cache)
    graph_channel = grpc.aio.insecure_channel(settings.graph_service_addr)
    tweet_channel = grpc.aio.insecure_channel(settings.tweet_service_addr)
    graph = GraphClient(graph_service_pb2_grpc.GraphServiceStub(graph_channel))
    mailer: Mailer = SmtpMailer(settings.smtp) if settings.smtp else MaildirMailer(common.data_dir / "maildir")

    async def local_jwks() -> dict[str, Any]:
        return json.loads(issuer.jwks_json())

    servicer = UserServicer(
        store,
        issuer,
        Sessions(store, issuer, revocations, session_ttl_s=settings.session_ttl_s,
                 access_ttl_s=settings.access_token_ttl_s),
        Passwords(),
        SnowflakeGenerator(common.worker_id),
        relay,
        graph,
        ProfileCounts(graph, tweet_service_pb2_grpc.TweetServiceStub(tweet_channel)),
        mailer,
        public_url=settings.public_url,
        mail_from=settings.mail_from,
        password_reset_ttl_s=settings.password_reset_ttl_s,
    )
    return App(
        servicers=[(user_service_pb2_grpc.add_UserServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=TokenVerifier(local_jwks, issuer=common.jwt_issuer, audience=common.jwt_audience,
                               revocations=revocations),
        background=[relay.run, *store_loops],
        closers=[nc.drain, graph_channel.close, tweet_channel.close, cache.aclose, store.close],
    )
