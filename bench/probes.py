"""Which RPCs answer: each scenario runs only when every RPC it needs is built.

A probe calls the RPC through Envoy as JSON with a valid token and a request that a built service
refuses or answers cheaply (an empty tweet, tweet 1, ...). HTTP 501 means the service still answers
UNIMPLEMENTED; 502/503/504 that it is down. Anything else, a 2xx or a 4xx, means it is built, so a
scenario starts working on its own the day its service lands.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import grpc

# probe key -> (service, HTTP method, path template, JSON body)
PROBES: dict[str, tuple[str, str, str, dict[str, Any] | None]] = {
    "timeline.GetHomeTimeline": ("timeline", "GET", "/api/v1/timeline/home?limit=1", None),
    "timeline.GetUserTimeline": ("timeline", "GET", "/api/v1/timeline/user/{user_id}?limit=1", None),
    "tweet.CreateTweet": ("tweet", "POST", "/api/v1/tweets", {"text": ""}),
    "engagement.LikeTweet": ("engagement", "POST", "/api/v1/tweets/1/like", {}),
    "graph.FollowUser": ("graph", "POST", "/api/v1/users/1/follow", {}),
}


def _call(url: str, method: str, token: str, body: dict[str, Any] | None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


async def probe(edge_url: str, token: str, user_id: int, key: str) -> str | None:
    """None when the RPC is built, else why not ("not available: timeline answers 501")."""
    service, method, path, body = PROBES[key]
    status = await asyncio.to_thread(_call, edge_url + path.format(user_id=user_id), method, token, body)
    if status == 501:
        return f"not available: {service} answers 501"
    if status in (0, 502, 503, 504):
        return f"not available: {service} is down (HTTP {status or 'no answer'})"
    return None


async def probe_all(edge_url: str, token: str, user_id: int) -> dict[str, str | None]:
    keys = list(PROBES)
    found = await asyncio.gather(*(probe(edge_url, token, user_id, k) for k in keys))
    return dict(zip(keys, found))


async def stream_available(edge_target: str, token: str) -> bool:
    """Whether TimelineService.StreamHomeTimeline is built: an UNIMPLEMENTED stream fails at once."""
    from chirp.timeline.v1 import timeline_service_pb2 as pb
    from chirp.timeline.v1 import timeline_service_pb2_grpc as rpc

    async with grpc.aio.insecure_channel(edge_target) as channel:
        call = rpc.TimelineServiceStub(channel).StreamHomeTimeline(
            pb.StreamHomeTimelineRequest(), metadata=[("authorization", f"Bearer {token}")])
        try:
            await asyncio.wait_for(call.read(), timeout=1.0)
            return True
        except asyncio.TimeoutError:
            return True  # open and waiting for updates: built
        except grpc.aio.AioRpcError as exc:
            return exc.code() != grpc.StatusCode.UNIMPLEMENTED
        finally:
            call.cancel()
