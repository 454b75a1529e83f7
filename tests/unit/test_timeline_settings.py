"""Timeline settings: the defaults the design names, and malformed values refused by name."""

from __future__ import annotations

import pytest

from services.runtime.settings import SettingsError
from services.timeline.settings import Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.celebrity_threshold == 10_000
    assert settings.cap == 800
    assert settings.cache_ttl_s == 7 * 24 * 3600
    assert settings.fanout_page_size == 1000
    assert settings.stream_session_check_s <= 1.0  # a logout ends streams within a second
    assert settings.tweet_service_addr == "127.0.0.1:50053" and settings.graph_service_addr == "127.0.0.1:50052"


def test_overrides() -> None:
    settings = Settings.from_env({"CHIRP_TIMELINE_CELEBRITY_THRESHOLD": "3", "CHIRP_TWEET_ADDR": "10.0.0.1:9"})
    assert settings.celebrity_threshold == 3 and settings.tweet_service_addr == "10.0.0.1:9"


@pytest.mark.parametrize(("name", "value"), [
    ("CHIRP_TIMELINE_CELEBRITY_THRESHOLD", "many"),
    ("CHIRP_TIMELINE_CELEBRITY_THRESHOLD", "-1"),
    ("CHIRP_TIMELINE_CAP", "0"),
    ("CHIRP_TIMELINE_FANOUT_PAGE_SIZE", "9000"),
    ("CHIRP_TIMELINE_ACK_WAIT_S", "0"),
    ("CHIRP_TIMELINE_REBUILD_TWEETS_PER_FOLLOWEE", "500"),
])
def test_malformed_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_store_is_chosen_by_chirp_timeline_store() -> None:
    default = Settings.from_env({})
    assert default.store == "sqlite" and default.scylla is None
    chosen = Settings.from_env({"CHIRP_TIMELINE_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db1,db2:9043",
                                "CHIRP_TIMELINE_SCYLLA_KEYSPACE": "chirp_timeline"})
    assert chosen.store == "scylla" and chosen.scylla is not None
    assert chosen.scylla.keyspace == "chirp_timeline" and chosen.scylla.hosts == (("db1", 9042), ("db2", 9043))
    plain = Settings.from_env({"CHIRP_TIMELINE_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db"})
    assert plain.scylla is not None and plain.scylla.keyspace == "timeline"


@pytest.mark.parametrize(("environ", "named"), [
    ({"CHIRP_TIMELINE_STORE": "scylla"}, "CHIRP_SCYLLA_HOSTS"),  # fails at start, not at first use
    ({"CHIRP_TIMELINE_STORE": "cassandra"}, "CHIRP_TIMELINE_STORE"),
    ({"CHIRP_TIMELINE_STORE": "scylla", "CHIRP_SCYLLA_HOSTS": "db", "CHIRP_TIMELINE_RETENTION_S": "999999999"},
     "CHIRP_TIMELINE_RETENTION_S"),
])
def test_a_store_that_cannot_work_stops_the_start(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(environ)
