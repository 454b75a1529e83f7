"""Snowflake ids: 64-bit, time-ordered, unique across processes that have distinct worker ids.

Layout (most significant first): 1 sign bit (always 0), 41 bits of milliseconds since EPOCH_MS,
10 bits of worker id, 12 bits of per-millisecond sequence. Sorting ids sorts by creation time, which
is what timelines and cursors rely on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
WORKER_BITS = 10
SEQUENCE_BITS = 12
MAX_WORKER_ID = (1 << WORKER_BITS) - 1
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
_TIMESTAMP_SHIFT = WORKER_BITS + SEQUENCE_BITS


class SnowflakeGenerator:
    """Thread-safe generator of Snowflake ids for one worker."""

    def __init__(self, worker_id: int, clock_ms: Callable[[], int] | None = None) -> None:
        if not 0 <= worker_id <= MAX_WORKER_ID:
            raise ValueError(f"worker_id must be in 0..{MAX_WORKER_ID}, got {worker_id}")
        self._worker_id = worker_id
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now = self._clock_ms()
            # A clock that steps back must not produce ids that sort before ones already issued.
            if now < self._last_ms:
                now = self._last_ms
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & _SEQUENCE_MASK
                if self._sequence == 0:
                    # 4096 ids in one millisecond: borrow the next millisecond rather than block.
                    now = self._last_ms + 1
            else:
                self._sequence = 0
            self._last_ms = now
            return ((now - EPOCH_MS) << _TIMESTAMP_SHIFT) | (self._worker_id << SEQUENCE_BITS) | self._sequence


def timestamp_ms(snowflake: int) -> int:
    """The creation time, in Unix milliseconds, encoded in a Snowflake id."""
    return (snowflake >> _TIMESTAMP_SHIFT) + EPOCH_MS


def lowest_id_at(unix_ms: int) -> int:
    """The smallest Snowflake id that any worker could issue at a given Unix millisecond."""
    return max(unix_ms - EPOCH_MS, 0) << _TIMESTAMP_SHIFT
