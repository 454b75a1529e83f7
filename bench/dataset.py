"""The synthetic social graph, made from a fixed random seed: the same seed gives the same graph.

- Ordinary users follow a lognormal number of accounts (mean `mean_following`), chosen in proportion
  to a Pareto "popularity", so follower counts come out heavy-tailed (a power law with a cap that
  keeps every ordinary account under the celebrity threshold).
- A few celebrities are followed by more accounts than the timeline's celebrity threshold, so home
  timeline reads take the merge-on-read path for them.
- The fan-out scenario's authors have exactly the follower counts it names (100, 1,000, 10,000).

Indices, not ids, identify users here: Snowflake ids are made when the stores are seeded.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field

from bench.modes import Mode

PASSWORD = "bench password 1"


@dataclass
class Graph:
    size: int
    following: list[list[int]]  # following[i]: the indices user i follows
    celebrities: list[int]
    fanout_authors: dict[int, int]  # tier (follower count) -> index of its author
    followers_count: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        counts = [0] * self.size
        for followees in self.following:
            for j in followees:
                counts[j] += 1
        self.followers_count = counts

    def followers_of(self, index: int) -> list[int]:
        return [i for i, followees in enumerate(self.following) if index in set(followees)]

    @property
    def edges(self) -> int:
        return sum(len(f) for f in self.following)

    def username(self, index: int) -> str:
        return username(index)


def username(index: int) -> str:
    return f"bench{index:06d}"


def _weighted_distinct(rng: random.Random, population_cum: list[float], k: int, exclude: set[int]) -> list[int]:
    """k distinct indices drawn in proportion to the weights behind `population_cum`."""
    total = population_cum[-1]
    chosen: dict[int, None] = {}
    attempts = 0
    while len(chosen) < k and attempts < k * 20:
        attempts += 1
        index = bisect.bisect_left(population_cum, rng.random() * total)
        if index not in exclude:
            chosen[index] = None
    return list(chosen)


def build_graph(mode: Mode, seed: int) -> Graph:
    rng = random.Random(seed)
    n = mode.users
    specials = mode.celebrities + len(mode.fanout_tiers)
    if n - specials < max(mode.fanout_tiers, default=0):
        raise ValueError(f"{n} users cannot give an author {max(mode.fanout_tiers)} followers")
    if n - 1 <= mode.celebrity_threshold:
        raise ValueError(f"{n} users cannot give a celebrity more than {mode.celebrity_threshold} followers")
    celebrities = list(range(mode.celebrities))
    fanout_authors = {tier: mode.celebrities + k for k, tier in enumerate(mode.fanout_tiers)}
    ordinary = list(range(specials, n))

    # Out-degrees: lognormal around the mean; popularity: Pareto, capped so that no ordinary account
    # expects more followers than half the celebrity threshold.
    sigma = 0.8
    mu = math.log(mode.mean_following) - sigma * sigma / 2
    cap_following = max(1, min(n // 3, int(mode.mean_following * 8)))
    out_degree = [max(1, min(cap_following, int(rng.lognormvariate(mu, sigma)))) for _ in range(n)]
    weights = [0.0] * n
    for i in ordinary:
        weights[i] = rng.paretovariate(1.5)
    total_out = sum(out_degree)
    ceiling = min(mode.celebrity_threshold * 0.5, len(ordinary) * 0.3)
    for _ in range(5):
        scale = total_out / sum(weights)
        limit = ceiling / scale
        weights = [min(w, limit) for w in weights]
    cum = list(itertools.accumulate(weights))

    following: list[list[int]] = []
    for i in range(n):
        k = min(out_degree[i], len(ordinary) - 1)
        following.append(_weighted_distinct(rng, cum, k, {i}))

    # Celebrities: more followers than the threshold, drawn from everyone else.
    for c in celebrities:
        spare = n - 1 - mode.celebrity_threshold
        count = mode.celebrity_threshold + max(1, int(spare * (0.5 + 0.5 * rng.random())))
        count = min(count, n - 1)
        for i in rng.sample([i for i in range(n) if i != c], count):
            following[i].append(c)
    # Fan-out authors: exactly `tier` followers, all ordinary accounts.
    for tier, author in fanout_authors.items():
        for i in rng.sample(ordinary, tier):
            following[i].append(author)
    return Graph(n, following, celebrities, fanout_authors)


# --- text ----------------------------------------------------------------------------------------

WORDS = (
    "the quick brown fox jumps over lazy dogs while people read timelines and write short posts "
    "about coffee music code weather football elections movies books cats trains and the city"
).split()
HASHTAGS = ["chirp", "bench", "python", "grpc", "envoy", "coffee", "music", "news", "sports", "tech",
            "travel", "food", "movies", "books", "science", "art"]


def compose_text(rng: random.Random, usernames: list[str], length: int = 256) -> str:
    """A tweet of exactly `length` characters with two mentions, two hashtags and a URL."""
    first, second = rng.sample(usernames, 2) if len(usernames) >= 2 else (usernames * 2)[:2]
    tags = rng.sample(HASHTAGS, 2)
    url = f"https://example.com/p/{rng.getrandbits(40):x}"
    head = f"@{first} @{second} "
    tail = f" #{tags[0]} #{tags[1]} {url}"
    room = length - len(head) - len(tail)
    words: list[str] = []
    size = -1
    while size < room:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    filler = " ".join(words)[:room].rstrip()
    filler = filler + "." * (room - len(filler))
    return head + filler + tail


def seed_text(rng: random.Random, usernames: list[str]) -> str:
    """A seeded tweet: 40 to 240 characters, sometimes with a mention, hashtag or URL."""
    parts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 36)))]
    if rng.random() < 0.3 and usernames:
        parts.insert(0, "@" + rng.choice(usernames))
    if rng.random() < 0.4:
        parts.append("#" + rng.choice(HASHTAGS))
    if rng.random() < 0.2:
        parts.append(f"https://example.com/s/{rng.getrandbits(32):x}")
    return " ".join(parts)[:240]
