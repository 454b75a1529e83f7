"""The embedded default's database: one SQLite file per service, WAL mode, one writer thread.

SQLite allows one writer at a time. Running every statement on one dedicated thread serialises
writes without lock errors and keeps the event loop free; WAL lets that thread's commits be cheap.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class Database:
    def __init__(self, path: Path, migrations: Sequence[str], *, synchronous: str = "FULL") -> None:
        """Opens (creating if needed) the database and applies migrations not yet applied.

        `migrations` is append-only: entry i is applied once, when user_version is at most i.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        self._conn: sqlite3.Connection = self._executor.submit(self._open, path, list(migrations), synchronous).result()

    @staticmethod
    def _open(path: Path, migrations: list[str], synchronous: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for index, script in enumerate(migrations[version:], start=version):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={index + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return conn

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `fn(conn)` on the database thread, outside any transaction."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, self._conn)

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `fn(conn)` in one write transaction: all of its writes land, or none do."""

        def run(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await asyncio.get_running_loop().run_in_executor(self._executor, run, self._conn)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
