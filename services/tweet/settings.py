"""Tweet service settings: the only reader of the environment for this service."""

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
    graph_service_addr: str
    engagement_service_addr: str
    # The deadline of each call to the user, graph and engagement services.
    downstream_timeout_s: float
    # Cold start (ListRecentPopularTweets): how far back tweets count as recent, and how many of the
    # newest of them are ranked at most.
    popular_window_s: int
    popular_candidates: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Env(environ)
        store, scylla = store_choice("tweet", environ)
        settings = cls(
            common=CommonSettings.from_env("tweet", environ),
            store=store,
            scylla=scylla,
            graph_service_addr=env.address("graph"),
            engagement_service_addr=env.address("engagement"),
            downstream_timeout_s=env.float("CHIRP_TWEET_DOWNSTREAM_TIMEOUT_S", 2.0),
            popular_window_s=env.int("CHIRP_TWEET_POPULAR_WINDOW_S", 24 * 3600),
            popular_candidates=env.int("CHIRP_TWEET_POPULAR_CANDIDATES", 1000),
        )
        if settings.downstream_timeout_s <= 0:
            raise SettingsError("CHIRP_TWEET_DOWNSTREAM_TIMEOUT_S must be positive")
        if settings.popular_window_s <= 0:
            raise SettingsError("CHIRP_TWEET_POPULAR_WINDOW_S must be positive")
        if not 1 <= settings.popular_candidates <= 10_000:
            raise SettingsError("CHIRP_TWEET_POPULAR_CANDIDATES must be between 1 and 10000")
        return settings
