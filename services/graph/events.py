"""What the graph service publishes: the events of graph/v1/events.proto, made from a plan's changes.

Each goes out on chirp.graph.<event> through the outbox, in the transaction of the change it reports.
A change that nobody is told about (a withdrawn request) makes no event.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from chirp.graph.v1 import events_pb2
from services.graph.domain import Change, Effect
from services.runtime.events import OutgoingEvent, subject
from services.runtime.ids import timestamp_ms

DOMAIN = "graph"


def occurred_at(seq: int) -> timestamp_pb2.Timestamp:
    """The time a Snowflake id was made at."""
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(timestamp_ms(seq))
    return ts


def _message(change: Change) -> tuple[str, Message] | None:
    at = occurred_at(change.seq)
    source, target = change.source, change.target
    match change.effect:
        case Effect.FOLLOWED:
            return "followed", events_pb2.Followed(
                follower_id=source, followed_id=target, from_request=change.from_request, occurred_at=at)
        case Effect.UNFOLLOWED:
            return "unfollowed", events_pb2.Unfollowed(follower_id=source, followed_id=target, occurred_at=at)
        case Effect.REQUESTED:
            return "follow_requested", events_pb2.FollowRequested(requester_id=source, target_id=target, occurred_at=at)
        case Effect.REQUEST_APPROVED:
            return "follow_request_approved", events_pb2.FollowRequestApproved(
                requester_id=source, target_id=target, occurred_at=at)
        case Effect.REQUEST_REJECTED:
            return "follow_request_rejected", events_pb2.FollowRequestRejected(
                requester_id=source, target_id=target, occurred_at=at)
        case Effect.BLOCKED:
            return "blocked", events_pb2.Blocked(blocker_id=source, blocked_id=target, occurred_at=at)
        case Effect.UNBLOCKED:
            return "unblocked", events_pb2.Unblocked(blocker_id=source, blocked_id=target, occurred_at=at)
        case Effect.MUTED:
            return "muted", events_pb2.Muted(muter_id=source, muted_id=target, occurred_at=at)
        case Effect.UNMUTED:
            return "unmuted", events_pb2.Unmuted(muter_id=source, muted_id=target, occurred_at=at)
        case Effect.REQUEST_WITHDRAWN:
            return None
    raise ValueError(f"unknown effect {change.effect}")  # pragma: no cover


def events_for(changes: Sequence[Change]) -> list[OutgoingEvent]:
    """The events that report `changes`, in order."""
    made = (_message(change) for change in changes)
    return [OutgoingEvent.of(subject(DOMAIN, name), message) for name, message in filter(None, made)]


def no_events(changes: Sequence[Change]) -> list[OutgoingEvent]:
    """For changes reported by someone else's event (an account deletion)."""
    return []
