"""Access tokens: short-lived JWTs signed with Ed25519, and the JWKS that publishes the keys."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key_pem: str
    created_at: float

    @classmethod
    def generate(cls) -> SigningKey:
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cls(kid=uuid.uuid4().hex[:16], private_key_pem=pem.decode(), created_at=time.time())

    def private_key(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def public_jwk(self) -> dict[str, str]:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private_key().public_key()))
        return {**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: float


class TokenIssuer:
    """Signs access tokens with the newest key; publishes every key that may still verify one."""

    def __init__(self, keys: list[SigningKey], *, issuer: str, audience: str, ttl_s: int) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        self._keys = sorted(keys, key=lambda k: k.created_at)
        self._current = self._keys[-1]
        self._private = self._current.private_key()
        self._issuer = issuer
        self._audience = audience
        self._ttl_s = ttl_s
        self._jwks = json.dumps({"keys": [k.public_jwk() for k in self._keys]}, separators=(",", ":"))

    def issue(self, user_id: int, session_id: str) -> IssuedToken:
        now = int(time.time())
        expires_at = now + self._ttl_s
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": session_id,
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._private, algorithm="EdDSA", headers={"kid": self._current.kid})
        return IssuedToken(token=token, expires_at=float(expires_at))

    def jwks_json(self) -> str:
        return self._jwks
