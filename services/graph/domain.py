"""Graph rules: who may follow, ask, block and mute whom, what each action changes, and where a list
page ends. Pure: no I/O, no grpc, no protobuf.

A mutation is decided by a planner: a function from the relationships read inside the store's
atomic unit to a `Plan`, the list of `Change`s to write. Planners change nothing that is already so,
which is what makes every mutation idempotent and keeps repeated actions from publishing events.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

BATCH_LIMIT = 500
PROFILE_PAGE_DEFAULT, PROFILE_PAGE_MAX = 20, 100
ID_PAGE_DEFAULT, ID_PAGE_MAX = 1000, 5000


class FollowState(enum.Enum):
    """Where a follow stands after the follower asked for it."""

    FOLLOWING = "following"
    PENDING = "pending"


class Effect(enum.Enum):
    """What one change does to the graph. `source` acts on `target` (see Change)."""

    FOLLOWED = "followed"  # adds the follow source -> target
    UNFOLLOWED = "unfollowed"  # removes the follow source -> target
    REQUESTED = "requested"  # adds source's request to follow the private target
    REQUEST_APPROVED = "request_approved"  # removes the request; a FOLLOWED of the same pair comes with it
    REQUEST_REJECTED = "request_rejected"  # removes the request: the target said no
    REQUEST_WITHDRAWN = "request_withdrawn"  # removes the request: an unfollow, a block or a deletion ended it
    BLOCKED = "blocked"  # adds source's block on target
    UNBLOCKED = "unblocked"  # removes source's block on target
    MUTED = "muted"  # adds source's mute on target
    UNMUTED = "unmuted"  # removes source's mute on target


@dataclass(frozen=True)
class Change:
    """One entry added to or removed from the graph.

    `source` is the follower, requester, blocker or muter; `target` the account followed, asked,
    blocked or muted. `seq` is the Snowflake id of the mutation: the list position of an entry it
    adds, and the time of the change.
    """

    effect: Effect
    source: int
    target: int
    seq: int
    from_request: bool = False  # a FOLLOWED that an approved request caused


@dataclass(frozen=True)
class Plan:
    """What a mutation changes; `state` is where the follow stands, for FollowUser only."""

    changes: tuple[Change, ...] = ()
    state: FollowState | None = None


@dataclass(frozen=True)
class Relationship:
    """How a viewer stands towards another account (`user_id`), read from the viewer's side."""

    user_id: int
    following: bool = False  # the viewer follows the account
    followed_by: bool = False  # the account follows the viewer
    pending: bool = False  # the viewer asked to follow the account and awaits its approval
    requested_by: bool = False  # the account asked to follow the viewer and awaits the viewer's approval
    blocking: bool = False  # the viewer blocks the account
    blocked_by: bool = False  # the account blocks the viewer
    muting: bool = False  # the viewer mutes the account


Planner = Callable[[Mapping[int, Relationship]], Plan]


@dataclass(frozen=True)
class FollowCounts:
    followers: int = 0
    following: int = 0


# --- errors ---------------------------------------------------------------------------------------


def user_not_found(user_id: int | None = None) -> NotFound:
    return NotFound("USER_NOT_FOUND", "No such user.", {"user_id": str(user_id)} if user_id is not None else None)


def require_user_id(value: int, field: str = "id") -> int:
    """Snowflake ids are positive; zero is a missing required field."""
    if value <= 0:
        raise InvalidArgument("INVALID_USER_ID", f"{field} must be a user id (a positive number).", {"field": field})
    return value


def refuse_self(actor: int, target: int, reason: str, action: str) -> None:
    if actor == target:
        raise InvalidArgument(reason, f"You cannot {action} yourself.")


def batch_ids(ids: Iterable[int], field: str) -> list[int]:
    """The distinct ids of a batch request, in order; at most BATCH_LIMIT."""
    distinct = list(dict.fromkeys(ids))
    if len(distinct) > BATCH_LIMIT:
        raise InvalidArgument("TOO_MANY_IDS", f"Ask about at most {BATCH_LIMIT} accounts at once.", {"field": field})
    return distinct


# --- planners -------------------------------------------------------------------------------------


def plan_follow(rel: Relationship, follower: int, *, target_private: bool, seq: int) -> Plan:
    """follower follows rel.user_id: at once when public, by a request when private."""
    target = rel.user_id
    refuse_self(follower, target, "CANNOT_FOLLOW_SELF", "follow")
    if rel.blocking:
        raise FailedPrecondition("USER_BLOCKED", "You have blocked this account; unblock it to follow it.")
    if rel.blocked_by:
        raise user_not_found(target)
    if rel.following:
        return Plan(state=FollowState.FOLLOWING)
    if rel.pending:
        return Plan(state=FollowState.PENDING)
    if target_private:
        return Plan((Change(Effect.REQUESTED, follower, target, seq),), FollowState.PENDING)
    return Plan((Change(Effect.FOLLOWED, follower, target, seq),), FollowState.FOLLOWING)


def plan_unfollow(rel: Relationship, follower: int, *, seq: int) -> Plan:
    """Ends follower's follow of rel.user_id, or withdraws the request to follow it."""
    changes = []
    if rel.following:
        changes.append(Change(Effect.UNFOLLOWED, follower, rel.user_id, seq))
    if rel.pending:
        changes.append(Change(Effect.REQUEST_WITHDRAWN, follower, rel.user_id, seq))
    return Plan(tuple(changes))


def _sever(rel: Relationship, me: int, seq: int) -> list[Change]:
    """Ends the follows and follow requests between `me` and rel.user_id, in both directions."""
    other = rel.user_id
    changes = []
    if rel.following:
        changes.append(Change(Effect.UNFOLLOWED, me, other, seq))
    if rel.followed_by:
        changes.append(Change(Effect.UNFOLLOWED, other, me, seq))
    if rel.pending:
        changes.append(Change(Effect.REQUEST_WITHDRAWN, me, other, seq))
    if rel.requested_by:
        changes.append(Change(Effect.REQUEST_WITHDRAWN, other, me, seq))
    return changes


def plan_block(rel: Relationship, blocker: int, *, seq: int) -> Plan:
    """blocker blocks rel.user_id, ending follows and requests both ways. Mutes stay as they are."""
    refuse_self(blocker, rel.user_id, "CANNOT_BLOCK_SELF", "block")
    if rel.blocking:
        return Plan()
    return Plan((*_sever(rel, blocker, seq), Change(Effect.BLOCKED, blocker, rel.user_id, seq)))


def plan_unblock(rel: Relationship, blocker: int, *, seq: int) -> Plan:
    """Lifts the block; the follows it ended stay ended."""
    return Plan((Change(Effect.UNBLOCKED, blocker, rel.user_id, seq),) if rel.blocking else ())


def plan_mute(rel: Relationship, muter: int, *, seq: int) -> Plan:
    refuse_self(muter, rel.user_id, "CANNOT_MUTE_SELF", "mute")
    return Plan(() if rel.muting else (Change(Effect.MUTED, muter, rel.user_id, seq),))


def plan_unmute(rel: Relationship, muter: int, *, seq: int) -> Plan:
    return Plan((Change(Effect.UNMUTED, muter, rel.user_id, seq),) if rel.muting else ())


def _approve(rel: Relationship, target: int, seq: int) -> tuple[Change, ...]:
    requester = rel.user_id
    return (
        Change(Effect.REQUEST_APPROVED, requester, target, seq),
        Change(Effect.FOLLOWED, requester, target, seq, from_request=True),
    )


def plan_approve(rel: Relationship, target: int, *, seq: int) -> Plan:
    """target approves rel.user_id's request. rel is read from the target's side."""
    if rel.requested_by:
        return Plan(_approve(rel, target, seq))
    if rel.followed_by:
        return Plan()  # approved already
    raise NotFound("FOLLOW_REQUEST_NOT_FOUND", "That account has not asked to follow you.")


def plan_reject(rel: Relationship, target: int, *, seq: int) -> Plan:
    """target rejects rel.user_id's request; nothing to do when there is none."""
    return Plan((Change(Effect.REQUEST_REJECTED, rel.user_id, target, seq),) if rel.requested_by else ())


def plan_approve_all(rels: Mapping[int, Relationship], *, target: int, seq: int) -> Plan:
    """target approves every pending request among rels (read from the target's side)."""
    return Plan(tuple(c for rel in rels.values() if rel.requested_by for c in _approve(rel, target, seq)))


def _combine(plans: Iterable[Plan]) -> Plan:
    return Plan(tuple(c for plan in plans for c in plan.changes))


def plan_replace_blocks(rels: Mapping[int, Relationship], *, owner: int, wanted: Sequence[int], seq: int) -> Plan:
    """Blocks every account of `wanted` not blocked yet, unblocks every other account in rels."""
    keep = set(wanted)
    return _combine(
        plan_block(rel, blocker=owner, seq=seq) if other in keep else plan_unblock(rel, blocker=owner, seq=seq)
        for other, rel in rels.items()
    )


def plan_replace_mutes(rels: Mapping[int, Relationship], *, owner: int, wanted: Sequence[int], seq: int) -> Plan:
    """Mutes every account of `wanted` not muted yet, unmutes every other account in rels."""
    keep = set(wanted)
    return _combine(
        plan_mute(rel, muter=owner, seq=seq) if other in keep else plan_unmute(rel, muter=owner, seq=seq)
        for other, rel in rels.items()
    )


def plan_forget(rels: Mapping[int, Relationship], *, user: int, seq: int) -> Plan:
    """A deleted account: end its follows and requests with every account in rels, both ways."""
    return Plan(tuple(c for rel in rels.values() for c in _sever(rel, user, seq)))


def replacement_list(owner: int, ids: Iterable[int], *, reason: str, action: str) -> list[int]:
    """The distinct ids of a block or mute list that replaces the owner's; the owner may not be on it."""
    wanted = list(dict.fromkeys(ids))
    if owner in wanted:
        refuse_self(owner, owner, reason, action)
    return wanted


# --- who may see a private account's lists --------------------------------------------------------


def check_list_access(viewer: int, rel: Relationship, *, exists: bool, private: bool) -> None:
    """Whether `viewer` may list rel.user_id's followers and follows. rel is read from the viewer's side."""
    if not exists or rel.blocked_by:
        raise user_not_found(rel.user_id)
    if private and viewer != rel.user_id and not rel.following:
        raise PermissionDenied("PRIVATE_ACCOUNT", "This account is private: only its approved followers see its lists.")


# --- pagination -----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Position:
    """Where a page ended: the last entry's seq and account id.

    Lists run newest first, by (seq, user_id) descending; the next page holds the entries strictly
    after this position in that order. An entry added between pages has a larger seq, so it lands
    before the position and never makes a later page repeat or skip one.
    """

    seq: int
    user_id: int

    def to_fields(self) -> dict[str, int]:
        return {"s": self.seq, "u": self.user_id}

    @classmethod
    def from_fields(cls, fields: Mapping[str, object]) -> Position:
        seq, user_id = fields.get("s"), fields.get("u")
        if not (_is_positive_int(seq) and _is_positive_int(user_id)) or set(fields) != {"s", "u"}:
            raise InvalidArgument("INVALID_CURSOR", "The cursor is not valid for this list; start again without one.")
        return cls(seq, user_id)  # type: ignore[arg-type]

    def precedes(self, entry: Entry) -> bool:
        """Whether `entry` comes after this position in the newest-first order."""
        return (entry.seq, entry.user_id) < (self.seq, self.user_id)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


@dataclass(frozen=True)
class Entry:
    """One list entry: the other account and the seq the follow, request, block or mute was made at."""

    user_id: int
    seq: int

    @property
    def position(self) -> Position:
        return Position(self.seq, self.user_id)


@dataclass(frozen=True)
class Page:
    entries: tuple[Entry, ...]
    next: Position | None  # None on the last page


def page_of(rows: Sequence[Entry], limit: int) -> Page:
    """The page of `limit` entries out of up to limit + 1 read newest first (the extra one says more follow)."""
    entries = tuple(rows[:limit])
    return Page(entries, entries[-1].position if len(rows) > limit and entries else None)
