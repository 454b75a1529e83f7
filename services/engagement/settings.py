"""Engagement service settings: the only reader of the environment for this service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.runtime.scylla import ScyllaSettings, store_choice
from services.runtime.settings import CommonSettings, Env, SettingsError


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    store: str  # "sqlite" (the embedded default) or "scylla"
    scylla: ScyllaSettings | None
    tweet_service_addr: str
    graph_service_addr: str
    # The deadline of each call to the tweet, user and graph services.
    downstream_timeout_s: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Env(environ)
        store, scylla = store_choice("engagement", environ)
        settings = cls(
            common=CommonSettings.from_env("engagement", environ),
            store=store,
            scylla=scylla,
            tweet_service_addr=env.address("tweet"),
            graph_service_addr=env.address("graph"),
            downstream_timeout_s=env.float("CHIRP_ENGAGEMENT_DOWNSTREAM_TIMEOUT_S", 2.0),
        )
        if settings.downstream_timeout_s <= 0:
            raise SettingsError("CHIRP_ENGAGEMENT_DOWNSTREAM_TIMEOUT_S must be positive")
        return settings
