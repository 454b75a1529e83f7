"""Token verification for services other than the user service: keys come from UserService.GetJwks."""

from __future__ import annotations

from typing import Any

import grpc

from chirp.user.v1 import user_service_pb2, user_service_pb2_grpc
from services.runtime import valkey
from services.runtime.auth import TokenVerifier, jwks_from_http_body
from services.runtime.revocation import Revocations
from services.runtime.settings import CommonSettings


def user_service_verifier(common: CommonSettings) -> TokenVerifier:
    """A verifier that fetches the JWKS lazily, so services start in any order."""
    channel = grpc.aio.insecure_channel(common.user_service_addr)
    stub = user_service_pb2_grpc.UserServiceStub(channel)

    async def fetch() -> dict[str, Any]:
        body = await stub.GetJwks(user_service_pb2.GetJwksRequest(), timeout=2.0)
        return jwks_from_http_body(body)

    return TokenVerifier(
        fetch,
        issuer=common.jwt_issuer,
        audience=common.jwt_audience,
        revocations=Revocations(valkey.connect(common.valkey_url)),
    )
