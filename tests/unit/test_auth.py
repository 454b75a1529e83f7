from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import chirp.graph.v1.graph_service_pb2  # noqa: F401  (registers the descriptors looked up below)
import chirp.user.v1.user_service_pb2  # noqa: F401
from chirp.api.v1 import annotations_pb2
from services.runtime.auth import TokenVerifier, access_for, bearer_token
from services.runtime.errors import Unauthenticated
from services.user.tokens import SigningKey, TokenIssuer


@pytest.mark.parametrize(
    ("method", "access"),
    [
        ("/chirp.user.v1.UserService/Signup", annotations_pb2.ACCESS_PUBLIC),
        ("/chirp.user.v1.UserService/GetUser", annotations_pb2.ACCESS_USER),
        ("/chirp.user.v1.UserService/BatchGetUsers", annotations_pb2.ACCESS_INTERNAL),
        ("/chirp.graph.v1.GraphService/FollowUser", annotations_pb2.ACCESS_USER),
        ("/chirp.user.v1.UserService/NoSuchMethod", annotations_pb2.ACCESS_USER),
        ("/chirp.nope.v1.Nope/Thing", annotations_pb2.ACCESS_USER),
        ("/grpc.health.v1.Health/Check", annotations_pb2.ACCESS_PUBLIC),
    ],
)
def test_access_comes_from_the_contract_and_fails_closed(method: str, access: int) -> None:
    assert access_for(method) == access


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), ("", None), (None, None)],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def _issuer(key: SigningKey, ttl_s: int = 60) -> TokenIssuer:
    return TokenIssuer([key], issuer="chirp", audience="chirp", ttl_s=ttl_s)


def _verifier(*keys: SigningKey) -> TokenVerifier:
    async def fetch() -> dict:
        return {"keys": [k.public_jwk() for k in keys]}

    return TokenVerifier(fetch, issuer="chirp", audience="chirp", min_refresh_s=0, leeway_s=0)


async def test_a_token_verifies_to_its_user_and_session() -> None:
    key = SigningKey.generate()
    issued = _issuer(key).issue(42, "session-1")
    principal = await _verifier(key).verify(issued.token)
    assert (principal.user_id, principal.session_id) == (42, "session-1")


async def test_expired_token_is_refused() -> None:
    key = SigningKey.generate()
    issued = _issuer(key, ttl_s=-10).issue(42, "s")
    with pytest.raises(Unauthenticated) as caught:
        await _verifier(key).verify(issued.token)
    assert caught.value.reason == "TOKEN_EXPIRED"


async def test_token_from_an_unknown_key_is_refused() -> None:
    issued = _issuer(SigningKey.generate()).issue(42, "s")
    with pytest.raises(Unauthenticated) as caught:
        await _verifier(SigningKey.generate()).verify(issued.token)
    assert caught.value.reason == "INVALID_TOKEN"


async def test_forged_algorithms_are_refused() -> None:
    key = SigningKey.generate()
    claims = {"iss": "chirp", "aud": "chirp", "sub": "1", "sid": "s", "iat": int(time.time()), "exp": int(time.time()) + 60}
    hs256 = jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": key.kid})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid})
    other_key = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": key.kid})
    for token in (hs256, unsigned, other_key, "not-a-jwt"):
        with pytest.raises(Unauthenticated):
            await _verifier(key).verify(token)


async def test_wrong_audience_is_refused() -> None:
    key = SigningKey.generate()
    token = TokenIssuer([key], issuer="chirp", audience="someone-else", ttl_s=60).issue(1, "s").token
    with pytest.raises(Unauthenticated):
        await _verifier(key).verify(token)
