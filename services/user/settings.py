"""User service settings: the only reader of the environment for this service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.runtime.scylla import ScyllaSettings, store_choice
from services.runtime.settings import CommonSettings, Env
from services.user.mail import SmtpConfig


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    store: str  # "sqlite" (the embedded default) or "scylla"
    scylla: ScyllaSettings | None
    graph_service_addr: str
    tweet_service_addr: str
    access_token_ttl_s: int
    session_ttl_s: int
    password_reset_ttl_s: int
    public_url: str
    mail_from: str
    smtp: SmtpConfig | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Env(environ)
        smtp_host = env.str("CHIRP_SMTP_HOST", "")
        smtp = None
        if smtp_host:
            smtp = SmtpConfig(
                host=smtp_host,
                port=env.int("CHIRP_SMTP_PORT", 587),
                username=env.str("CHIRP_SMTP_USERNAME", ""),
                password=env.str("CHIRP_SMTP_PASSWORD", ""),
                starttls=env.bool("CHIRP_SMTP_STARTTLS", True),
            )
        store, scylla = store_choice("user", environ)
        return cls(
            common=CommonSettings.from_env("user", environ),
            store=store,
            scylla=scylla,
            graph_service_addr=env.address("graph"),
            tweet_service_addr=env.address("tweet"),
            access_token_ttl_s=env.int("CHIRP_USER_ACCESS_TOKEN_TTL_S", 15 * 60),
            session_ttl_s=env.int("CHIRP_USER_SESSION_TTL_S", 30 * 24 * 3600),
            password_reset_ttl_s=env.int("CHIRP_USER_PASSWORD_RESET_TTL_S", 3600),
            public_url=env.str("CHIRP_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/"),
            mail_from=env.str("CHIRP_MAIL_FROM", "Chirp <no-reply@chirp.localhost>"),
            smtp=smtp,
        )
