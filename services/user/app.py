"""Composition root: settings -> store -> keys -> servicer -> App."""

from __future__ import annotations

import json

from chirp.user.v1 import user_service_pb2, user_service_pb2_grpc
from services.runtime import events
from services.runtime.auth import TokenVerifier
from services.runtime.ids import SnowflakeGenerator
from services.runtime.outbox import OutboxRelay
from services.runtime.server import App
from services.user.passwords import Passwords
from services.user.servicer import UserServicer
from services.user.settings import Settings
from services.user.store.sqlite import SqliteUserStore
from services.user.tokens import SigningKey, TokenIssuer

SERVICE_NAME = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name


async def build(settings: Settings) -> App:
    common = settings.common
    store = SqliteUserStore(common.data_dir / "user.db")
    keys = await store.signing_keys() or await store.add_signing_key_if_none(SigningKey.generate())
    issuer = TokenIssuer(keys, issuer=common.jwt_issuer, audience=common.jwt_audience,
                         ttl_s=settings.access_token_ttl_s)

    nc = await events.connect(common.nats_url, name="chirp-user")
    js = nc.jetstream()
    await events.ensure_stream(js, "user")
    relay = OutboxRelay(store.database, events.EventPublisher(js))

    async def local_jwks() -> dict:
        return json.loads(issuer.jwks_json())

    servicer = UserServicer(
        store, issuer, Passwords(), SnowflakeGenerator(common.worker_id), relay,
        session_ttl_s=settings.session_ttl_s,
    )
    return App(
        servicers=[(user_service_pb2_grpc.add_UserServiceServicer_to_server, servicer)],
        service_names=[SERVICE_NAME],
        verifier=TokenVerifier(local_jwks, issuer=common.jwt_issuer, audience=common.jwt_audience),
        background=[relay.run],
        closers=[nc.drain, store.close],
    )
