"""Timeline service settings: the only reader of the environment for this service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.runtime.scylla import MAX_TTL_S, ScyllaSettings
from services.runtime.settings import CommonSettings, Env, SettingsError


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    store: str  # "sqlite" (the embedded default) or "scylla"
    scylla: ScyllaSettings | None
    graph_service_addr: str
    tweet_service_addr: str
    engagement_service_addr: str
    # The deadline of each call to the user, graph, tweet and engagement services.
    downstream_timeout_s: float
    # Authors with more followers than this are not fanned out; reads merge their entries in.
    celebrity_threshold: int
    # Entries a cached home timeline keeps.
    cap: int
    # How long a cached home timeline lives without being read or written.
    cache_ttl_s: int
    # How long the celebrities a viewer follows are cached.
    celebrity_cache_ttl_s: int
    # How long persisted home timeline entries are kept (SQLite: the purge age; ScyllaDB: the TTL).
    retention_s: int
    # How often expired persisted entries are purged (SQLite; ScyllaDB expires them itself).
    purge_interval_s: float
    # Followers per fan-out page, and the deadline of one whole follower stream.
    fanout_page_size: int
    fanout_stream_timeout_s: float
    # How long a consumer may hold an event before JetStream redelivers it (a crashed process's
    # events come back after this).
    ack_wait_s: float
    # Cold start: followees whose recent entries a rebuild reads from the user timeline index, and
    # how many entries of each.
    rebuild_followees: int
    rebuild_tweets_per_followee: int
    # Cold start: followees with tweets (BatchGetTweetCounts) but nothing in the index (tweets from
    # before the index was fed) whose recent tweets a rebuild asks of the tweet service
    # (ListUserTweets, one call each), at most this many per rebuild; 0: never.
    rebuild_fallback_followees: int
    # How often an open StreamHomeTimeline checks that its session is still live.
    stream_session_check_s: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Env(environ)
        store = env.str("CHIRP_TIMELINE_STORE", "sqlite")
        if store not in ("sqlite", "scylla"):
            raise SettingsError(f"CHIRP_TIMELINE_STORE must be sqlite or scylla, got {store!r}")
        scylla = ScyllaSettings.from_env("timeline", environ)
        if store == "scylla" and scylla is None:
            raise SettingsError("CHIRP_TIMELINE_STORE=scylla needs CHIRP_SCYLLA_HOSTS")
        settings = cls(
            common=CommonSettings.from_env("timeline", environ),
            store=store,
            scylla=scylla,
            graph_service_addr=env.address("graph"),
            tweet_service_addr=env.address("tweet"),
            engagement_service_addr=env.address("engagement"),
            downstream_timeout_s=env.float("CHIRP_TIMELINE_DOWNSTREAM_TIMEOUT_S", 2.0),
            celebrity_threshold=env.int("CHIRP_TIMELINE_CELEBRITY_THRESHOLD", 10_000),
            cap=env.int("CHIRP_TIMELINE_CAP", 800),
            cache_ttl_s=env.int("CHIRP_TIMELINE_CACHE_TTL_S", 7 * 24 * 3600),
            celebrity_cache_ttl_s=env.int("CHIRP_TIMELINE_CELEBRITY_CACHE_TTL_S", 60),
            retention_s=env.int("CHIRP_TIMELINE_RETENTION_S", 30 * 24 * 3600),
            purge_interval_s=env.float("CHIRP_TIMELINE_PURGE_INTERVAL_S", 3600.0),
            fanout_page_size=env.int("CHIRP_TIMELINE_FANOUT_PAGE_SIZE", 1000),
            fanout_stream_timeout_s=env.float("CHIRP_TIMELINE_FANOUT_STREAM_TIMEOUT_S", 120.0),
            ack_wait_s=env.float("CHIRP_TIMELINE_ACK_WAIT_S", 30.0),
            rebuild_followees=env.int("CHIRP_TIMELINE_REBUILD_FOLLOWEES", 500),
            rebuild_tweets_per_followee=env.int("CHIRP_TIMELINE_REBUILD_TWEETS_PER_FOLLOWEE", 20),
            rebuild_fallback_followees=env.int("CHIRP_TIMELINE_REBUILD_FALLBACK_FOLLOWEES", 50),
            stream_session_check_s=env.float("CHIRP_TIMELINE_STREAM_SESSION_CHECK_S", 1.0),
        )
        settings._check()
        return settings

    def _check(self) -> None:
        positive = {
            "CHIRP_TIMELINE_DOWNSTREAM_TIMEOUT_S": self.downstream_timeout_s,
            "CHIRP_TIMELINE_CAP": self.cap,
            "CHIRP_TIMELINE_CACHE_TTL_S": self.cache_ttl_s,
            "CHIRP_TIMELINE_CELEBRITY_CACHE_TTL_S": self.celebrity_cache_ttl_s,
            "CHIRP_TIMELINE_RETENTION_S": self.retention_s,
            "CHIRP_TIMELINE_PURGE_INTERVAL_S": self.purge_interval_s,
            "CHIRP_TIMELINE_FANOUT_STREAM_TIMEOUT_S": self.fanout_stream_timeout_s,
            "CHIRP_TIMELINE_ACK_WAIT_S": self.ack_wait_s,
            "CHIRP_TIMELINE_STREAM_SESSION_CHECK_S": self.stream_session_check_s,
        }
        for name, value in positive.items():
            if value <= 0:
                raise SettingsError(f"{name} must be positive, got {value}")
        if self.celebrity_threshold < 0:
            raise SettingsError("CHIRP_TIMELINE_CELEBRITY_THRESHOLD must not be negative")
        if not 1 <= self.fanout_page_size <= 5000:
            raise SettingsError("CHIRP_TIMELINE_FANOUT_PAGE_SIZE must be between 1 and 5000")
        if not 1 <= self.rebuild_tweets_per_followee <= 100:
            raise SettingsError("CHIRP_TIMELINE_REBUILD_TWEETS_PER_FOLLOWEE must be between 1 and 100")
        if self.rebuild_followees < 0:
            raise SettingsError("CHIRP_TIMELINE_REBUILD_FOLLOWEES must not be negative")
        if self.store == "scylla" and self.retention_s > MAX_TTL_S:
            raise SettingsError(f"CHIRP_TIMELINE_RETENTION_S is a ScyllaDB TTL here: at most {MAX_TTL_S}")
        if self.rebuild_fallback_followees < 0:
            raise SettingsError("CHIRP_TIMELINE_REBUILD_FALLBACK_FOLLOWEES must not be negative")
