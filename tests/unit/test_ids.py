from __future__ import annotations

import pytest

from services.runtime.ids import EPOCH_MS, SnowflakeGenerator, lowest_id_at, timestamp_ms


def test_ids_are_unique_and_increasing() -> None:
    generator = SnowflakeGenerator(worker_id=7)
    ids = [generator.next_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_id_encodes_its_creation_time() -> None:
    now = EPOCH_MS + 123_456_789
    generator = SnowflakeGenerator(worker_id=1, clock_ms=lambda: now)
    assert timestamp_ms(generator.next_id()) == now
    assert lowest_id_at(now) <= generator.next_id()


def test_clock_stepping_back_never_reorders_ids() -> None:
    times = iter([EPOCH_MS + 5_000, EPOCH_MS + 4_000, EPOCH_MS + 4_500])
    generator = SnowflakeGenerator(worker_id=1, clock_ms=lambda: next(times))
    first, second, third = generator.next_id(), generator.next_id(), generator.next_id()
    assert first < second < third


def test_sequence_overflow_borrows_the_next_millisecond() -> None:
    generator = SnowflakeGenerator(worker_id=3, clock_ms=lambda: EPOCH_MS + 10)
    ids = [generator.next_id() for _ in range(5_000)]
    assert len(set(ids)) == 5_000 and ids == sorted(ids)


def test_workers_do_not_collide() -> None:
    clock = lambda: EPOCH_MS + 99  # noqa: E731
    a, b = SnowflakeGenerator(1, clock), SnowflakeGenerator(2, clock)
    assert {a.next_id() for _ in range(100)}.isdisjoint({b.next_id() for _ in range(100)})


@pytest.mark.parametrize("worker_id", [-1, 1024])
def test_worker_id_must_fit_in_ten_bits(worker_id: int) -> None:
    with pytest.raises(ValueError):
        SnowflakeGenerator(worker_id)
