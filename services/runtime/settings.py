"""Reading settings from the environment, and the settings every service shares.

Each service's own settings.py is the only reader of os.environ for that service; it builds a
CommonSettings with `CommonSettings.from_env(name)` and adds what is particular to it. A setting
that is present but malformed stops the process at start, naming the variable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.runtime.topology import service


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


class Env:
    """Typed access to an environment mapping, with errors that name the variable."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def str(self, name: str, default: str | None = None) -> str:
        value = self._environ.get(name)
        if value is None or value == "":
            if default is None:
                raise SettingsError(f"{name} is required but not set")
            return default
        return value

    def int(self, name: str, default: int) -> int:
        raw = self._environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be an integer, got {raw!r}") from None

    def float(self, name: str, default: float) -> float:
        raw = self._environ.get(name)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None

    def bool(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name)
        if raw is None or raw == "":
            return default
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name} must be true or false, got {raw!r}")

    def address(self, peer: str) -> str:
        """host:port of a peer service, from CHIRP_<PEER>_ADDR or the topology's default."""
        info = service(peer)
        return self.str(f"{info.env_prefix}_ADDR", f"127.0.0.1:{info.default_port}")


@dataclass(frozen=True)
class CommonSettings:
    service: str
    host: str
    port: int
    data_dir: Path
    nats_url: str
    valkey_url: str
    worker_id: int
    log_level: str
    metrics_port: int
    jwt_issuer: str
    jwt_audience: str
    user_service_addr: str
    shutdown_grace_s: float

    @classmethod
    def from_env(cls, name: str, environ: Mapping[str, str] | None = None) -> CommonSettings:
        env = Env(environ)
        info = service(name)
        data_root = Path(env.str("CHIRP_DATA_DIR", "var")).resolve()
        return cls(
            service=name,
            host=env.str("CHIRP_HOST", "127.0.0.1"),
            port=env.int(f"{info.env_prefix}_PORT", info.default_port),
            data_dir=data_root / name,
            nats_url=env.str("CHIRP_NATS_URL", "nats://127.0.0.1:4222"),
            valkey_url=env.str("CHIRP_VALKEY_URL", "redis://127.0.0.1:6379/0"),
            worker_id=env.int(f"{info.env_prefix}_WORKER_ID", info.worker_id),
            log_level=env.str("CHIRP_LOG_LEVEL", "info"),
            metrics_port=env.int(f"{info.env_prefix}_METRICS_PORT", 0),
            jwt_issuer=env.str("CHIRP_JWT_ISSUER", "chirp"),
            jwt_audience=env.str("CHIRP_JWT_AUDIENCE", "chirp"),
            user_service_addr=env.address("user"),
            shutdown_grace_s=env.float("CHIRP_SHUTDOWN_GRACE_S", 5.0),
        )

    def local_secret(self, name: str) -> bytes:
        """A secret kept in this service's data directory, made on first use.

        Secrets that only this service reads (cursor signing keys) need no operator setup on the
        embedded default, and survive restarts so that cursors handed out stay valid.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / f"{name}.secret"
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            value = secrets.token_bytes(32)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(value.hex())
            tmp.chmod(0o600)
            os.replace(tmp, path)
            return value
