"""The graph store port: what the graph service needs from storage, shaped for one-partition reads.

Every read names one partition key and, where it asks about several accounts, clusters them
inside it, so a wide-column adapter (ScyllaDB) serves each with one table per query:

| read                              | partition      | clustering                   |
|-----------------------------------|----------------|------------------------------|
| following (page)                  | follower id    | seq DESC, followee id DESC   |
| followers (page)                  | followee id    | seq DESC, follower id DESC   |
| follow requests to an account     | target id      | seq DESC, requester id DESC  |
| follow requests an account made   | requester id   | target id                    |
| blocks / mutes an account made    | owner id       | seq DESC, other id DESC      |
| who blocks an account             | blocked id     | blocker id                   |
| follower / following counters     | user id        | (counter columns)            |

`relationships(viewer, others)` reads the viewer's partitions only, each restricted to the others
by clustering key (`IN`): no joins, no scans.

Mutations go through `apply`: the adapter reads the relationships, hands them to a pure planner
from `services.graph.domain`, and writes the planner's `Change`s, the counters they move and the
events `publish` makes of them as ONE atomic unit (SQLite: one transaction; ScyllaDB: a logged
batch for the rows and the outbox, counters in their own batch, the pair guarded by a lightweight
transaction so two concurrent follows cannot both count). A planner that raises writes nothing.

What each Effect writes:
- FOLLOWED: the follow in following(source) and followers(target); following[source] += 1 and
  followers[target] += 1. UNFOLLOWED: removes both rows; the counters go down by one.
- REQUESTED: the request in requests_to(target) and requests_from(source). REQUEST_APPROVED,
  REQUEST_REJECTED, REQUEST_WITHDRAWN: remove both rows.
- BLOCKED / UNBLOCKED: the block in blocks(source) and blocked_by(target), added or removed.
- MUTED / UNMUTED: the mute in mutes(source), added or removed.
Adding what exists or removing what does not must change nothing (planners never ask for it, but
retries and races may).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from services.graph.domain import Change, FollowCounts, Page, Plan, Planner, Position, Relationship
from services.runtime.events import OutgoingEvent

Publisher = Callable[[Sequence[Change]], Sequence[OutgoingEvent]]
"""Makes the events that report a plan's changes; [] for changes nobody is told about."""


class GraphStore(Protocol):
    async def relationships(self, viewer_id: int, other_ids: Iterable[int]) -> dict[int, Relationship]:
        """How the viewer stands towards each of other_ids, keyed by id.

        Every id is answered; an account with no edge to the viewer (or unknown) gets every flag false.
        """

    async def apply(self, viewer_id: int, other_ids: Iterable[int], plan: Planner, publish: Publisher) -> Plan:
        """Reads relationships(viewer_id, other_ids), writes what `plan` of them decides, atomically.

        The changes, their counter updates and the events `publish(changes)` makes are written together
        or not at all; `plan` raising (a rule refused the action) writes nothing. Returns the plan.
        """

    async def following(self, user_id: int, after: Position | None, limit: int) -> Page:
        """The accounts user_id follows, most recent follow first, starting after `after`."""

    async def followers(self, user_id: int, after: Position | None, limit: int) -> Page:
        """The accounts that follow user_id, most recent follow first, starting after `after`."""

    async def follow_requests(self, target_id: int, after: Position | None, limit: int) -> Page:
        """The pending requests to follow target_id, most recent first, starting after `after`."""

    async def blocked_ids(self, owner_id: int) -> list[int]:
        """Every account owner_id blocks, the most recent block first."""

    async def muted_ids(self, owner_id: int) -> list[int]:
        """Every account owner_id mutes, the most recent mute first."""

    async def counts(self, user_ids: Iterable[int]) -> dict[int, FollowCounts]:
        """Follower and following counters of each id (zeros when none), read from counters."""

    async def counterparties(self, user_id: int, limit: int) -> list[int]:
        """Up to `limit` accounts with a follow or follow request to or from user_id.

        For removing a deleted account's edges chunk by chunk: once apply() has ended the edges with
        the accounts returned, the next call returns others, and [] when none are left.
        """

    async def close(self) -> None: ...
