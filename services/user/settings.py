"""User service settings: the only reader of the environment for this service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.runtime.settings import CommonSettings, Env


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    access_token_ttl_s: int
    session_ttl_s: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Env(environ)
        return cls(
            common=CommonSettings.from_env("user", environ),
            access_token_ttl_s=env.int("CHIRP_USER_ACCESS_TOKEN_TTL_S", 15 * 60),
            session_ttl_s=env.int("CHIRP_USER_SESSION_TTL_S", 30 * 24 * 3600),
        )
