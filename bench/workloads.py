"""What each scenario sends: requests made inside the load-generator processes from the seeded data.

Every request is built at its intended send time from a seeded random generator, so a step's
requests depend only on the seed, the scenario and the worker. HTTP requests are raw HTTP/1.1 bytes
for Envoy's JSON surface (the paths of the public API); gRPC requests are the generated messages
for the generated stubs, sent through the same Envoy port.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from bench.dataset import compose_text

# op -> the kind of bound it is held to
READS = {"home", "user_tl", "echo"}
WRITES = {"compose", "like", "follow"}

MIXES: dict[str, dict[str, float]] = {
    "home": {"home": 1.0},
    "user_tl": {"user_tl": 1.0},
    "compose": {"compose": 1.0},
    "like": {"like": 1.0},
    "follow": {"follow": 1.0},
    "echo": {"echo": 1.0},
    # DeathStarBench's social network mix: 60% home timeline, 30% user timeline, 10% compose.
    "mixed": {"home": 0.6, "user_tl": 0.3, "compose": 0.1},
}


@dataclass
class GrpcCall:
    op: str
    service: str  # "timeline", "tweet", "engagement", "graph", "echo"
    method: str
    request: Any
    metadata: tuple[tuple[str, str], ...]


_DATA: dict[str, dict[str, Any]] = {}


def load_data(path: str) -> dict[str, Any]:
    """The seeded data a worker needs, loaded once per process."""
    if path not in _DATA:
        with open(path) as f:
            data = json.load(f)
        data["popular_cum"] = list(itertools.accumulate(data["popularity"]))
        data["usernames"] = [u[1] for u in data["users"]]
        _DATA[path] = data
    return _DATA[path]


class Workload:
    def __init__(self, name: str, data: dict[str, Any], params: dict[str, Any], seed: int) -> None:
        if name not in MIXES:
            raise ValueError(f"unknown workload {name!r}")
        self.rng = random.Random(seed)
        self.data = data
        self.params = params
        mix = MIXES[name]
        self.ops = list(mix)
        self.op_cum = list(itertools.accumulate(mix.values()))
        self.users = data["users"]
        self.viewers: list[int] = params.get("viewers") or list(range(len(self.users)))
        authors = data.get("authors_with_tweets") or []
        self.timeline_targets: list[int] = authors or list(range(len(self.users)))
        pop = data["popularity"]
        self.target_cum = list(itertools.accumulate(pop[i] for i in self.timeline_targets))
        self.tweet_ids: list[int] = data.get("tweet_ids") or []
        self.host = f"127.0.0.1:{params.get('port', data.get('edge_port', 0))}"

    def _op(self) -> str:
        if len(self.ops) == 1:
            return self.ops[0]
        return self.rng.choices(self.ops, cum_weights=self.op_cum)[0]

    def _viewer(self) -> list[Any]:
        return self.users[self.rng.choice(self.viewers)]

    def _target(self) -> int:
        return self.users[self.rng.choices(self.timeline_targets, cum_weights=self.target_cum)[0]][0]

    def _text(self) -> str:
        return compose_text(self.rng, self.data["usernames"])

    def _follow_target(self, viewer_id: int) -> int:
        while True:
            target = self.users[self.rng.randrange(len(self.users))][0]
            if target != viewer_id or len(self.users) < 2:
                return target

    # --- HTTP/1.1 JSON through Envoy ---

    def _get(self, path: str, token: str) -> bytes:
        return (f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
                f"Accept: application/json\r\n\r\n").encode()

    def _post(self, path: str, token: str, body: dict[str, Any]) -> bytes:
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nAccept: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode()
        return head + payload

    def http(self) -> tuple[str, bytes]:
        op = self._op()
        if op == "echo":
            return op, self._get("/bench/v1/echo?message=hello", self.params["token"])
        viewer_id, _, token = self._viewer()
        if op == "home":
            return op, self._get("/api/v1/timeline/home?limit=20", token)
        if op == "user_tl":
            return op, self._get(f"/api/v1/timeline/user/{self._target()}?limit=20", token)
        if op == "compose":
            return op, self._post("/api/v1/tweets", token, {"text": self._text(), "requestId": uuid.uuid4().hex})
        if op == "like":
            return op, self._post(f"/api/v1/tweets/{self.rng.choice(self.tweet_ids)}/like", token, {})
        if op == "follow":
            return op, self._post(f"/api/v1/users/{self._follow_target(viewer_id)}/follow", token, {})
        raise ValueError(op)

    # --- gRPC through Envoy ---

    def grpc(self, types: dict[str, Any]) -> GrpcCall:
        op = self._op()
        if op == "echo":
            md = (("authorization", f"Bearer {self.params['token']}"),)
            return GrpcCall(op, "echo", "Echo", types["echo_request"](message="hello"), md)
        viewer_id, _, token = self._viewer()
        md = (("authorization", f"Bearer {token}"),)
        if op == "home":
            return GrpcCall(op, "timeline", "GetHomeTimeline", types["GetHomeTimelineRequest"](limit=20), md)
        if op == "user_tl":
            return GrpcCall(op, "timeline", "GetUserTimeline",
                            types["GetUserTimelineRequest"](user_id=self._target(), limit=20), md)
        if op == "compose":
            return GrpcCall(op, "tweet", "CreateTweet",
                            types["CreateTweetRequest"](text=self._text(), request_id=uuid.uuid4().hex), md)
        if op == "like":
            return GrpcCall(op, "engagement", "LikeTweet",
                            types["LikeTweetRequest"](id=self.rng.choice(self.tweet_ids)), md)
        if op == "follow":
            return GrpcCall(op, "graph", "FollowUser", types["FollowUserRequest"](id=self._follow_target(viewer_id)), md)
        raise ValueError(op)
