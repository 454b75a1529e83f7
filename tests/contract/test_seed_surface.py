"""The public API the seed promises (its STEP 4 tables) and DESIGN.md section 10 adds.

The seed's tables are copied here by hand. Each endpoint must be bound by some public RPC, and the
JSON names the seed shows must be fields of that RPC's request or response. RPCs are found by their
binding (verb + path), never by name, so renaming an RPC cannot hide a missing endpoint.
"""

from __future__ import annotations

import functools

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, MethodDescriptor

from gateway.envoy_config import Rpc, contract_rpcs

from ._contracts import normalize_seed_path, normalize_template

# (verb, path) of every row of the seed's STEP 4 API tables, in the seed's order.
SEED_ENDPOINTS = [
    # 1. User & Authentication
    ("POST", "/api/v1/signup"),
    ("POST", "/api/v1/login"),
    ("POST", "/api/v1/logout"),
    ("POST", "/api/v1/password-reset/request"),
    ("POST", "/api/v1/password-reset/confirm"),
    ("GET", "/api/v1/users/:id"),
    ("PUT", "/api/v1/users/:id"),
    ("POST", "/api/v1/users/:id/follow"),
    ("POST", "/api/v1/users/:id/unfollow"),
    ("GET", "/api/v1/users/:id/followers"),
    ("GET", "/api/v1/users/:id/following"),
    ("POST", "/api/v1/users/:id/block"),
    ("POST", "/api/v1/users/:id/unblock"),
    # 2. Tweets. The seed's like toggle is POST like + DELETE unlike (DESIGN section 10).
    ("POST", "/api/v1/tweets"),
    ("GET", "/api/v1/tweets/:id"),
    ("DELETE", "/api/v1/tweets/:id"),
    ("POST", "/api/v1/tweets/:id/like"),
    ("DELETE", "/api/v1/tweets/:id/like"),
    ("POST", "/api/v1/tweets/:id/retweet"),
    ("GET", "/api/v1/tweets/:id/replies"),
    ("GET", "/api/v1/tweets/:id/engagements"),
    ("GET", "/api/v1/tweets/:id/likers"),
    # 3. Timeline / Feed
    ("GET", "/api/v1/timeline/home"),
    ("GET", "/api/v1/timeline/user/:userId"),
    # 4. Notifications
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/notifications/:id/read"),
    # 5. Search
    ("GET", "/api/v1/search"),
    # 6. Direct messages
    ("POST", "/api/v1/messages"),
    ("GET", "/api/v1/messages"),
    ("DELETE", "/api/v1/messages/:id"),
    # 7. Media
    ("POST", "/api/v1/media/upload"),
    # 8. Account settings & privacy
    ("GET", "/api/v1/account/privacy"),
    ("PUT", "/api/v1/account/privacy"),
]

# Surfaces the issue adds beyond the seed (DESIGN section 10).
EXTRA_ENDPOINTS = [
    ("GET", "/api/v1/follow-requests"),
    ("POST", "/api/v1/follow-requests/:id/approve"),
    ("POST", "/api/v1/follow-requests/:id/reject"),
    ("POST", "/api/v1/users/:id/mute"),
    ("POST", "/api/v1/users/:id/unmute"),
    ("DELETE", "/api/v1/tweets/:id/retweet"),  # "POST does it, DELETE undoes it"
    ("GET", "/api/v1/trends"),
    ("POST", "/api/v1/notifications/read-all"),
    ("POST", "/api/v1/reports"),
]

# (verb, path, "request" | "response", JSON names the seed shows there).
SEED_JSON_FIELDS = [
    ("POST", "/api/v1/signup", "request", {"email", "username", "password", "name"}),
    ("POST", "/api/v1/signup", "response", {"userId", "token", "profile"}),
    ("POST", "/api/v1/login", "request", {"email", "username", "password"}),
    ("POST", "/api/v1/login", "response", {"token", "user"}),
    ("POST", "/api/v1/logout", "response", {"message"}),
    ("POST", "/api/v1/password-reset/request", "request", {"email"}),
    ("POST", "/api/v1/password-reset/request", "response", {"message"}),
    ("POST", "/api/v1/password-reset/confirm", "request", {"token", "newPassword"}),
    ("POST", "/api/v1/password-reset/confirm", "response", {"message"}),
    ("PUT", "/api/v1/users/:id", "request", {"name", "bio", "location", "website", "avatarUrl"}),
    ("POST", "/api/v1/users/:id/follow", "response", {"message"}),
    ("POST", "/api/v1/users/:id/unfollow", "response", {"message"}),
    ("GET", "/api/v1/users/:id/followers", "request", {"cursor", "limit"}),
    ("GET", "/api/v1/users/:id/followers", "response", {"followers", "nextCursor"}),
    ("GET", "/api/v1/users/:id/following", "request", {"cursor", "limit"}),
    ("GET", "/api/v1/users/:id/following", "response", {"following", "nextCursor"}),
    ("POST", "/api/v1/users/:id/block", "response", {"message"}),
    ("POST", "/api/v1/users/:id/unblock", "response", {"message"}),
    ("POST", "/api/v1/tweets", "request", {"text", "mediaUrls", "poll", "replyToTweetId", "location"}),
    ("POST", "/api/v1/tweets", "response", {"tweetId", "createdAt", "tweetData"}),
    ("DELETE", "/api/v1/tweets/:id", "response", {"message"}),
    ("POST", "/api/v1/tweets/:id/like", "response", {"message"}),
    ("DELETE", "/api/v1/tweets/:id/like", "response", {"message"}),
    ("POST", "/api/v1/tweets/:id/retweet", "request", {"comment"}),
    ("POST", "/api/v1/tweets/:id/retweet", "response", {"message", "retweetId"}),
    ("GET", "/api/v1/tweets/:id/replies", "request", {"cursor", "limit"}),
    ("GET", "/api/v1/tweets/:id/replies", "response", {"replies", "nextCursor"}),
    ("GET", "/api/v1/tweets/:id/engagements", "response", {"likeCount", "retweetCount", "replyCount"}),
    ("GET", "/api/v1/tweets/:id/likers", "request", {"cursor", "limit"}),
    ("GET", "/api/v1/tweets/:id/likers", "response", {"users", "nextCursor"}),
    ("GET", "/api/v1/timeline/home", "request", {"cursor", "limit", "filter"}),
    ("GET", "/api/v1/timeline/home", "response", {"tweets", "nextCursor"}),
    ("GET", "/api/v1/timeline/user/:userId", "request", {"cursor", "limit"}),
    ("GET", "/api/v1/timeline/user/:userId", "response", {"tweets", "nextCursor"}),
    ("GET", "/api/v1/notifications", "request", {"cursor", "limit"}),
    ("GET", "/api/v1/notifications", "response", {"notifications", "nextCursor"}),
    ("POST", "/api/v1/notifications/:id/read", "response", {"message"}),
    ("GET", "/api/v1/search", "request", {"q", "type", "limit", "cursor"}),
    ("GET", "/api/v1/search", "response", {"results", "nextCursor"}),
    ("POST", "/api/v1/messages", "request", {"recipientId", "messageText", "mediaUrl"}),
    ("POST", "/api/v1/messages", "response", {"messageId", "timestamp"}),
    ("GET", "/api/v1/messages", "request", {"cursor", "limit", "chatWithUserId"}),
    ("GET", "/api/v1/messages", "response", {"messages", "nextCursor"}),
    ("DELETE", "/api/v1/messages/:id", "response", {"message"}),
    ("POST", "/api/v1/media/upload", "response", {"mediaUrl", "mediaId", "metadata"}),
    ("GET", "/api/v1/account/privacy", "response", {"isPrivate", "mutedUsers", "blockedUsers", "notificationPrefs"}),
    ("PUT", "/api/v1/account/privacy", "request", {"isPrivate", "mutedUsers", "blockedUsers", "notificationPrefs"}),
    ("PUT", "/api/v1/account/privacy", "response", {"isPrivate", "mutedUsers", "blockedUsers", "notificationPrefs"}),
]


@functools.cache
def _rpcs() -> tuple[Rpc, ...]:
    return tuple(contract_rpcs())


def _public_bindings() -> dict[tuple[str, str], list[Rpc]]:
    """(verb, normalized template) -> the public RPCs bound there (the ones the edge routes)."""
    table: dict[tuple[str, str], list[Rpc]] = {}
    for rpc in _rpcs():
        if rpc.public:
            for binding in rpc.bindings:
                table.setdefault((binding.verb, normalize_template(binding.template)), []).append(rpc)
    return table


def _bound_rpc(verb: str, seed_path: str) -> Rpc:
    rpcs = _public_bindings().get((verb, normalize_seed_path(seed_path)), [])
    assert rpcs, f"no public RPC is bound to {verb} {seed_path}"
    assert len(rpcs) == 1, f"{verb} {seed_path} is bound by several RPCs: {[r.grpc_path for r in rpcs]}"
    return rpcs[0]


def _method(rpc: Rpc) -> MethodDescriptor:
    return descriptor_pool.Default().FindMethodByName(rpc.grpc_path.lstrip("/").replace("/", "."))


def _ids(rows) -> list[str]:
    return [" ".join(row[:3]) for row in rows]


@pytest.mark.parametrize("verb, path", SEED_ENDPOINTS, ids=_ids(SEED_ENDPOINTS))
def test_seed_endpoint_is_bound(verb: str, path: str):
    _bound_rpc(verb, path)


@pytest.mark.parametrize("verb, path", EXTRA_ENDPOINTS, ids=_ids(EXTRA_ENDPOINTS))
def test_extra_endpoint_is_bound(verb: str, path: str):
    _bound_rpc(verb, path)


def test_notifications_can_be_streamed():
    streams = [rpc for rpc in _rpcs() if rpc.service == "notification" and rpc.public and rpc.server_streaming]
    assert streams, "NotificationService has no public server-streaming RPC"
    assert any(b.verb == "GET" for rpc in streams for b in rpc.bindings), (
        f"no notification stream is bound to GET: {[(r.grpc_path, r.bindings) for r in streams]}"
    )


def _json_names(message: Descriptor) -> set[str]:
    return {field.json_name for field in message.fields}


@pytest.mark.parametrize("verb, path, side, expected", SEED_JSON_FIELDS, ids=_ids(SEED_JSON_FIELDS))
def test_seed_json_names(verb: str, path: str, side: str, expected: set[str]):
    rpc = _bound_rpc(verb, path)
    method = _method(rpc)
    message = method.input_type if side == "request" else method.output_type
    missing = sorted(expected - _json_names(message))
    assert not missing, (
        f"{verb} {path} ({rpc.grpc_path}) {side} {message.full_name} lacks JSON fields {missing}; "
        f"it has {sorted(_json_names(message))}"
    )
