"""The sizes and durations of each mode: full (make bench), quick (make bench-quick), tiny (the test)."""

from __future__ import annotations

from dataclasses import dataclass


def ladder(start: float, factor: float, stop: float) -> tuple[float, ...]:
    """Fixed offered rates from start up to stop, each `factor` times the one before, rounded.

    The ladder is the same in every run of a mode, so a rate's latencies compare across runs.
    """
    rates: list[float] = []
    rate = start
    while rate <= stop * 1.0001:
        rounded = float(round(rate, -1) if rate >= 100 else round(rate))
        if not rates or rounded > rates[-1]:
            rates.append(rounded)
        rate *= factor
    return tuple(rates)


@dataclass(frozen=True)
class Mode:
    name: str
    # Dataset.
    users: int
    mean_following: float  # follows per ordinary user; the mean follower count follows from it
    celebrities: int
    celebrity_threshold: int  # CHIRP_TIMELINE_CELEBRITY_THRESHOLD for the mesh
    fanout_tiers: tuple[int, ...]  # follower counts of the fan-out scenario's authors
    tweets: int  # tweets and replies to seed (with about 0.74 likes and 0.11 retweets each)
    # The active users whose timelines the read scenarios read: a seeded sample of the accounts,
    # whose home timelines are read once (built, as an active user's is) before any is measured.
    active_viewers: int
    # Load.
    step_s: float  # length of one offered rate
    min_requests: int  # a low rate runs longer to send this many (up to long_step_s), for usable percentiles
    long_step_s: float
    ceiling_ladder: tuple[float, ...]
    scenario_ladder: tuple[float, ...]
    max_steps: int  # rates per scenario at most
    ceiling_max_steps: int  # rates for each ceiling sweep at most
    failures_to_stop: int  # consecutive steps over the bound that end a sweep
    workers: int  # load-generator processes
    timeout_s: float  # a request slower than this is an error
    # Fan-out and celebrity.
    fanout_posts: int  # probe tweets per author
    fanout_observers: int  # sampled followers watched per author
    fanout_visible_timeout_s: float
    background_compose_rate: float  # composes/s from random users during the fan-out scenario
    celebrity_rates: int  # how many read rates the celebrity scenario pairs (baseline, posting)


FULL = Mode(
    name="full",
    users=10_400,
    mean_following=72.0,
    celebrities=3,
    celebrity_threshold=10_100,
    fanout_tiers=(100, 1_000, 10_000),
    tweets=200_000,
    active_viewers=1_000,
    step_s=6.0,
    min_requests=200,
    long_step_s=18.0,
    ceiling_ladder=ladder(200, 2**0.5, 12_800),
    scenario_ladder=ladder(25, 2**0.5, 12_800),
    max_steps=14,
    ceiling_max_steps=14,
    failures_to_stop=2,
    workers=2,
    timeout_s=5.0,
    fanout_posts=8,
    fanout_observers=12,
    fanout_visible_timeout_s=30.0,
    background_compose_rate=10.0,
    celebrity_rates=3,
)

QUICK = Mode(
    name="quick",
    users=2_000,
    mean_following=30.0,
    celebrities=2,
    celebrity_threshold=1_500,
    fanout_tiers=(100, 1_000),
    tweets=20_000,
    active_viewers=200,
    step_s=2.0,
    min_requests=40,
    long_step_s=4.0,
    ceiling_ladder=ladder(250, 2, 16_000),
    scenario_ladder=ladder(25, 2, 12_800),
    max_steps=7,
    ceiling_max_steps=7,
    failures_to_stop=1,
    workers=2,
    timeout_s=3.0,
    fanout_posts=3,
    fanout_observers=6,
    fanout_visible_timeout_s=10.0,
    background_compose_rate=5.0,
    celebrity_rates=1,
)

TINY = Mode(
    name="tiny",
    users=40,
    mean_following=5.0,
    celebrities=1,
    celebrity_threshold=25,
    fanout_tiers=(10,),
    tweets=60,
    active_viewers=20,
    step_s=1.0,
    min_requests=5,
    long_step_s=1.0,
    ceiling_ladder=(50.0, 100.0),
    scenario_ladder=(10.0, 20.0),
    max_steps=1,
    ceiling_max_steps=2,
    failures_to_stop=1,
    workers=1,
    timeout_s=2.0,
    fanout_posts=1,
    fanout_observers=3,
    fanout_visible_timeout_s=3.0,
    background_compose_rate=2.0,
    celebrity_rates=1,
)

MODES = {m.name: m for m in (FULL, QUICK, TINY)}
