"""Graph service settings: the only reader of the environment for this service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.runtime.scylla import ScyllaSettings, store_choice
from services.runtime.settings import CommonSettings, Env


@dataclass(frozen=True)
class Settings:
    common: CommonSettings
    store: str  # "sqlite" (the embedded default) or "scylla"
    scylla: ScyllaSettings | None
    # The deadline of each call to the user service (profile lookups and hydration).
    user_timeout_s: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Env(environ)
        store, scylla = store_choice("graph", environ)
        return cls(
            common=CommonSettings.from_env("graph", environ),
            store=store,
            scylla=scylla,
            user_timeout_s=env.float("CHIRP_GRAPH_USER_TIMEOUT_S", 2.0),
        )
