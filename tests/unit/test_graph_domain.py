"""The graph's pure rules: follows, requests, blocks, mutes, list access and page positions."""

from __future__ import annotations

import pytest

from services.graph import domain
from services.graph.domain import Change, Effect, FollowState, Plan, Relationship
from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

ME, OTHER, SEQ = 10, 20, 999


def effects(plan: Plan) -> list[tuple[Effect, int, int]]:
    return [(c.effect, c.source, c.target) for c in plan.changes]


# --- follow ---------------------------------------------------------------------------------------


def test_following_a_public_account_takes_effect_at_once() -> None:
    plan = domain.plan_follow(Relationship(OTHER), follower=ME, target_private=False, seq=SEQ)
    assert plan.state is FollowState.FOLLOWING
    assert plan.changes == (Change(Effect.FOLLOWED, ME, OTHER, SEQ),)


def test_following_a_private_account_makes_a_request() -> None:
    plan = domain.plan_follow(Relationship(OTHER), follower=ME, target_private=True, seq=SEQ)
    assert plan.state is FollowState.PENDING
    assert effects(plan) == [(Effect.REQUESTED, ME, OTHER)]


@pytest.mark.parametrize(("rel", "private", "state"), [
    (Relationship(OTHER, following=True), False, FollowState.FOLLOWING),
    (Relationship(OTHER, following=True), True, FollowState.FOLLOWING),
    (Relationship(OTHER, pending=True), True, FollowState.PENDING),
    (Relationship(OTHER, pending=True), False, FollowState.PENDING),
])
def test_following_again_changes_nothing(rel: Relationship, private: bool, state: FollowState) -> None:
    plan = domain.plan_follow(rel, follower=ME, target_private=private, seq=SEQ)
    assert plan == Plan(state=state)


def test_nobody_follows_themselves() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.plan_follow(Relationship(ME), follower=ME, target_private=False, seq=SEQ)
    assert caught.value.reason == "CANNOT_FOLLOW_SELF"


def test_a_blocked_account_cannot_be_followed_and_a_blocker_looks_absent() -> None:
    with pytest.raises(FailedPrecondition) as caught:
        domain.plan_follow(Relationship(OTHER, blocking=True), follower=ME, target_private=False, seq=SEQ)
    assert caught.value.reason == "USER_BLOCKED"
    with pytest.raises(NotFound) as absent:
        domain.plan_follow(Relationship(OTHER, blocked_by=True), follower=ME, target_private=False, seq=SEQ)
    assert absent.value.reason == "USER_NOT_FOUND"


def test_unfollow_ends_a_follow_or_withdraws_a_request_and_is_idempotent() -> None:
    assert effects(domain.plan_unfollow(Relationship(OTHER, following=True), follower=ME, seq=SEQ)) == [
        (Effect.UNFOLLOWED, ME, OTHER)]
    assert effects(domain.plan_unfollow(Relationship(OTHER, pending=True), follower=ME, seq=SEQ)) == [
        (Effect.REQUEST_WITHDRAWN, ME, OTHER)]
    assert domain.plan_unfollow(Relationship(OTHER, followed_by=True), follower=ME, seq=SEQ) == Plan()


# --- block and mute -------------------------------------------------------------------------------


def test_a_block_ends_follows_and_requests_both_ways_but_keeps_mutes() -> None:
    rel = Relationship(OTHER, following=True, followed_by=True, requested_by=True, muting=True)
    assert effects(domain.plan_block(rel, blocker=ME, seq=SEQ)) == [
        (Effect.UNFOLLOWED, ME, OTHER),
        (Effect.UNFOLLOWED, OTHER, ME),
        (Effect.REQUEST_WITHDRAWN, OTHER, ME),
        (Effect.BLOCKED, ME, OTHER),
    ]
    assert effects(domain.plan_block(Relationship(OTHER, pending=True), blocker=ME, seq=SEQ)) == [
        (Effect.REQUEST_WITHDRAWN, ME, OTHER), (Effect.BLOCKED, ME, OTHER)]


def test_blocking_twice_and_unblocking_what_is_not_blocked_change_nothing() -> None:
    assert domain.plan_block(Relationship(OTHER, blocking=True), blocker=ME, seq=SEQ) == Plan()
    assert domain.plan_unblock(Relationship(OTHER), blocker=ME, seq=SEQ) == Plan()
    assert effects(domain.plan_unblock(Relationship(OTHER, blocking=True), blocker=ME, seq=SEQ)) == [
        (Effect.UNBLOCKED, ME, OTHER)]


def test_being_blocked_does_not_stop_blocking_back() -> None:
    plan = domain.plan_block(Relationship(OTHER, blocked_by=True), blocker=ME, seq=SEQ)
    assert effects(plan) == [(Effect.BLOCKED, ME, OTHER)]


def test_mutes_are_idempotent_and_touch_nothing_else() -> None:
    assert effects(domain.plan_mute(Relationship(OTHER, following=True), muter=ME, seq=SEQ)) == [
        (Effect.MUTED, ME, OTHER)]
    assert domain.plan_mute(Relationship(OTHER, muting=True), muter=ME, seq=SEQ) == Plan()
    assert domain.plan_unmute(Relationship(OTHER), muter=ME, seq=SEQ) == Plan()
    assert effects(domain.plan_unmute(Relationship(OTHER, muting=True), muter=ME, seq=SEQ)) == [
        (Effect.UNMUTED, ME, OTHER)]


@pytest.mark.parametrize(("plan", "reason"), [
    (lambda: domain.plan_block(Relationship(ME), blocker=ME, seq=SEQ), "CANNOT_BLOCK_SELF"),
    (lambda: domain.plan_mute(Relationship(ME), muter=ME, seq=SEQ), "CANNOT_MUTE_SELF"),
    (lambda: domain.replacement_list(ME, [OTHER, ME], reason="CANNOT_BLOCK_SELF", action="block"),
     "CANNOT_BLOCK_SELF"),
])
def test_nobody_blocks_or_mutes_themselves(plan, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as caught:
        plan()
    assert caught.value.reason == reason


def test_replacing_a_block_list_blocks_the_new_unblocks_the_dropped_and_leaves_the_rest() -> None:
    rels = {
        1: Relationship(1, blocking=True),  # stays
        2: Relationship(2, blocking=True),  # dropped
        3: Relationship(3, followed_by=True),  # new
    }
    plan = domain.plan_replace_blocks(rels, owner=ME, wanted=[1, 3], seq=SEQ)
    assert effects(plan) == [(Effect.UNBLOCKED, ME, 2), (Effect.UNFOLLOWED, 3, ME), (Effect.BLOCKED, ME, 3)]
    assert domain.replacement_list(ME, [3, 1, 3], reason="X", action="block") == [3, 1]


def test_replacing_a_mute_list() -> None:
    rels = {1: Relationship(1, muting=True), 2: Relationship(2)}
    plan = domain.plan_replace_mutes(rels, owner=ME, wanted=[2], seq=SEQ)
    assert effects(plan) == [(Effect.UNMUTED, ME, 1), (Effect.MUTED, ME, 2)]


# --- requests -------------------------------------------------------------------------------------


def test_approving_a_request_turns_it_into_a_follow_from_the_request() -> None:
    plan = domain.plan_approve(Relationship(OTHER, requested_by=True), target=ME, seq=SEQ)
    assert plan.changes == (
        Change(Effect.REQUEST_APPROVED, OTHER, ME, SEQ),
        Change(Effect.FOLLOWED, OTHER, ME, SEQ, from_request=True),
    )


def test_approving_again_succeeds_and_approving_nothing_is_not_found() -> None:
    assert domain.plan_approve(Relationship(OTHER, followed_by=True), target=ME, seq=SEQ) == Plan()
    with pytest.raises(NotFound) as caught:
        domain.plan_approve(Relationship(OTHER), target=ME, seq=SEQ)
    assert caught.value.reason == "FOLLOW_REQUEST_NOT_FOUND"


def test_rejecting_removes_the_request_and_rejecting_nothing_succeeds() -> None:
    assert effects(domain.plan_reject(Relationship(OTHER, requested_by=True), target=ME, seq=SEQ)) == [
        (Effect.REQUEST_REJECTED, OTHER, ME)]
    assert domain.plan_reject(Relationship(OTHER), target=ME, seq=SEQ) == Plan()
    assert domain.plan_reject(Relationship(OTHER, followed_by=True), target=ME, seq=SEQ) == Plan()


def test_approve_all_approves_only_pending_requests() -> None:
    rels = {1: Relationship(1, requested_by=True), 2: Relationship(2), 3: Relationship(3, requested_by=True)}
    plan = domain.plan_approve_all(rels, target=ME, seq=SEQ)
    assert [(c.effect, c.source) for c in plan.changes] == [
        (Effect.REQUEST_APPROVED, 1), (Effect.FOLLOWED, 1), (Effect.REQUEST_APPROVED, 3), (Effect.FOLLOWED, 3)]


def test_forgetting_a_deleted_account_severs_every_edge_both_ways_but_not_blocks() -> None:
    rels = {
        1: Relationship(1, following=True, followed_by=True),
        2: Relationship(2, pending=True, blocking=True),
        3: Relationship(3, requested_by=True, muting=True),
    }
    plan = domain.plan_forget(rels, user=ME, seq=SEQ)
    assert effects(plan) == [
        (Effect.UNFOLLOWED, ME, 1), (Effect.UNFOLLOWED, 1, ME),
        (Effect.REQUEST_WITHDRAWN, ME, 2), (Effect.REQUEST_WITHDRAWN, 3, ME),
    ]


# --- list access ----------------------------------------------------------------------------------


def test_public_lists_are_open_to_everyone_not_blocked() -> None:
    domain.check_list_access(ME, Relationship(OTHER), exists=True, private=False)
    with pytest.raises(NotFound):
        domain.check_list_access(ME, Relationship(OTHER, blocked_by=True), exists=True, private=False)
    with pytest.raises(NotFound):
        domain.check_list_access(ME, Relationship(OTHER), exists=False, private=False)


def test_private_lists_are_for_the_account_and_its_approved_followers() -> None:
    domain.check_list_access(ME, Relationship(ME), exists=True, private=True)
    domain.check_list_access(ME, Relationship(OTHER, following=True), exists=True, private=True)
    for rel in (Relationship(OTHER), Relationship(OTHER, pending=True), Relationship(OTHER, followed_by=True)):
        with pytest.raises(PermissionDenied) as caught:
            domain.check_list_access(ME, rel, exists=True, private=True)
        assert caught.value.reason == "PRIVATE_ACCOUNT"


# --- ids and pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, -(2**63)])
def test_ids_must_be_positive(value: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.require_user_id(value, "requester_id")
    assert caught.value.reason == "INVALID_USER_ID" and caught.value.metadata == {"field": "requester_id"}
    assert domain.require_user_id(7) == 7


def test_batches_ignore_duplicates_and_stop_at_500() -> None:
    assert domain.batch_ids([3, 1, 3, 2, 1], "ids") == [3, 1, 2]
    assert len(domain.batch_ids(list(range(1, 501)) * 2, "ids")) == 500
    with pytest.raises(InvalidArgument) as caught:
        domain.batch_ids(range(1, 502), "ids")
    assert caught.value.reason == "TOO_MANY_IDS"


def test_a_page_ends_at_its_last_entry_and_only_when_more_follow() -> None:
    rows = [domain.Entry(user_id=u, seq=s) for u, s in ((5, 50), (4, 40), (3, 30))]
    page = domain.page_of(rows, 2)
    assert page.entries == tuple(rows[:2]) and page.next == domain.Position(40, 4)
    assert domain.page_of(rows, 3).next is None
    assert domain.page_of([], 3) == domain.Page((), None)


def test_positions_order_newest_first_with_the_id_breaking_ties() -> None:
    position = domain.Position(seq=40, user_id=4)
    assert position.precedes(domain.Entry(user_id=9, seq=39))
    assert position.precedes(domain.Entry(user_id=3, seq=40))
    assert not position.precedes(domain.Entry(user_id=4, seq=40))
    assert not position.precedes(domain.Entry(user_id=1, seq=41))


def test_positions_round_trip_and_refuse_anything_else() -> None:
    position = domain.Position(seq=123, user_id=456)
    assert domain.Position.from_fields(position.to_fields()) == position
    for fields in ({}, {"s": 1}, {"s": "1", "u": 2}, {"s": True, "u": 2}, {"s": 1, "u": -2}, {"s": 1.5, "u": 2},
                   {"s": 1, "u": 2, "x": 3}, {"s": 2**63, "u": 1}):
        with pytest.raises(InvalidArgument) as caught:
            domain.Position.from_fields(fields)
        assert caught.value.reason == "INVALID_CURSOR"
