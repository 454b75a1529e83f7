"""Who is calling: access policies read from the contracts, and access-token verification.

Access tokens are JWTs signed with Ed25519 (EdDSA) by the user service and published as a JWKS.
Envoy checks them at the edge; every service checks them again here, so a request that reaches a
service some other way is held to the same rule.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
from google.protobuf import descriptor_pool

from chirp.api.v1 import annotations_pb2
from services.runtime.errors import Unauthenticated
from services.runtime.revocation import Revocations


@dataclass(frozen=True)
class Principal:
    """The signed-in caller of an RPC, as its verified access token says."""

    user_id: int
    session_id: str


_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("chirp_principal", default=None)


def set_principal(principal: Principal | None) -> contextvars.Token[Principal | None]:
    return _principal.set(principal)


def reset_principal(token: contextvars.Token[Principal | None]) -> None:
    _principal.reset(token)


def optional_principal() -> Principal | None:
    """The caller, or None when the RPC allows anonymous calls and none signed in."""
    return _principal.get()


def current_principal() -> Principal:
    """The caller of an RPC that requires one. The interceptor has already refused anonymous calls."""
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated("AUTHENTICATION_REQUIRED", "Authentication required.")
    return principal


Access = int  # a chirp.api.v1.Access value


def access_for(full_method: str) -> Access:
    """The access policy the contract declares for `/package.Service/Method`.

    RPCs outside Chirp's contracts (health, reflection) are public; a Chirp RPC that declares
    nothing is treated as requiring a user, so forgetting the option fails closed.
    """
    try:
        _, service_name, method_name = full_method.split("/")
    except ValueError:
        return annotations_pb2.ACCESS_PUBLIC
    if not service_name.startswith("chirp."):
        return annotations_pb2.ACCESS_PUBLIC
    try:
        service = descriptor_pool.Default().FindServiceByName(service_name)
    except KeyError:
        return annotations_pb2.ACCESS_USER
    method = service.methods_by_name.get(method_name)
    if method is None:
        return annotations_pb2.ACCESS_USER
    access = method.GetOptions().Extensions[annotations_pb2.access]
    return access or annotations_pb2.ACCESS_USER


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TokenVerifier:
    """Verifies access tokens against a JWKS fetched on demand.

    Keys are cached; a token signed with a key id not in the cache triggers one refetch (at most
    every `min_refresh_s`), which is how a key rotation reaches services without a restart.
    """

    def __init__(
        self,
        fetch_jwks: Callable[[], Awaitable[dict[str, Any]]],
        *,
        issuer: str,
        audience: str,
        min_refresh_s: float = 5.0,
        leeway_s: float = 5.0,
        revocations: Revocations | None = None,
    ) -> None:
        self._fetch_jwks = fetch_jwks
        self._revocations = revocations
        self._issuer = issuer
        self._audience = audience
        self._min_refresh_s = min_refresh_s
        self._leeway_s = leeway_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self._min_refresh_s:
                return
            document = await self._fetch_jwks()
            self._keys = {k["kid"]: jwt.PyJWK(k) for k in document.get("keys", []) if "kid" in k}
            self._fetched_at = time.monotonic()

    async def _key_for(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys:
            try:
                await self._refresh()
            except Exception as exc:  # the key source being down is not the caller's fault
                raise Unauthenticated("TOKEN_KEYS_UNAVAILABLE", "Access tokens cannot be checked right now; try again.") from exc
        key = self._keys.get(kid)
        if key is None:
            raise _invalid_token()
        return key

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid_token() from None
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") != "EdDSA":
            raise _invalid_token()
        key = await self._key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["EdDSA"],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "sub", "sid"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("TOKEN_EXPIRED", "The access token has expired; sign in again.") from None
        except jwt.PyJWTError:
            raise _invalid_token() from None
        try:
            principal = Principal(user_id=int(claims["sub"]), session_id=str(claims["sid"]))
        except (TypeError, ValueError):
            raise _invalid_token() from None
        if self._revocations is not None and await self._revocations.is_revoked(principal.session_id):
            raise Unauthenticated("SESSION_REVOKED", "This session has ended; sign in again.")
        return principal


def _invalid_token() -> Unauthenticated:
    return Unauthenticated("INVALID_TOKEN", "The access token is not valid.")


def jwks_from_http_body(body: Any) -> dict[str, Any]:
    """Parses the google.api.HttpBody that UserService.GetJwks answers with."""
    return json.loads(bytes(body.data))
