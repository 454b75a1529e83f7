"""Fan-out survives a crash and bad events, on a mesh of its own.

The mesh here fans out to everyone (a threshold no author reaches), in pages of 100 followers, and
lets JetStream redeliver an unacknowledged event after 3 s, so the event a killed process held comes
back soon. A few thousand followers are written straight into the graph service's store (no
thousands of signups), their home timelines marked built in Valkey.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import grpc
import httpx
import nats
import pytest
from nats.aio.msg import Msg

from chirp.timeline.v1 import events_pb2 as timeline_events_pb2
from chirp.timeline.v1 import timeline_service_pb2, timeline_service_pb2_grpc
from chirp.tweet.v1 import tweet_pb2
from services.graph import domain as graph_domain
from services.graph.events import no_events
from services.graph.store.sqlite import SqliteGraphStore
from services.runtime import events, valkey
from services.runtime.ids import SnowflakeGenerator
from services.runtime.mesh import Mesh
from services.timeline import cache as layout
from services.timeline.domain import tweet_entry
from tests.conftest import start_mesh
from tests.e2e.conftest import bearer, signup
from tests.support import eventually

pytestmark = pytest.mark.e2e

FOLLOWERS = 3000
PAGE = 100


@pytest.fixture(scope="module")
async def own_mesh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    started = await start_mesh(
        tmp_path_factory.mktemp("timeline-reliability"),
        CHIRP_TIMELINE_CELEBRITY_THRESHOLD="1000000",
        CHIRP_TIMELINE_FANOUT_PAGE_SIZE=str(PAGE),
        CHIRP_TIMELINE_ACK_WAIT_S="3",
    )
    yield started
    await started.stop()


@pytest.fixture
async def edge(own_mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=own_mesh.edge_url, timeout=10) as client:
        yield client


async def seed_followers(mesh: Mesh, author_id: int, follower_ids: list[int]) -> None:
    """Makes follower_ids follow the author, straight through the graph service's store."""
    store = SqliteGraphStore(mesh.data_dir / "graph" / "graph.db")
    seq = SnowflakeGenerator(1001).next_id()

    def plan(rels: dict[int, graph_domain.Relationship]) -> graph_domain.Plan:
        return graph_domain.Plan(tuple(
            graph_domain.Change(graph_domain.Effect.FOLLOWED, follower, author_id, seq)
            for follower, rel in rels.items() if not rel.followed_by))

    try:
        await store.apply(author_id, follower_ids, plan, no_events)
    finally:
        await store.close()


async def holders(mesh: Mesh, user_ids: list[int], tweet_id: int, author_id: int) -> int:
    """How many of the users' cached home timelines hold the tweet."""
    client = valkey.connect(mesh.valkey_url)
    try:
        async with client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zscore(layout.home_key(user_id), tweet_entry(tweet_id, author_id).key)
            found = await pipe.execute()
    finally:
        await client.aclose()
    return sum(score is not None for score in found)


def persisted(mesh: Mesh, tweet_id: int) -> tuple[int, int]:
    """(rows, distinct readers) of the tweet in the timeline service's store."""
    with sqlite3.connect(mesh.data_dir / "timeline" / "timeline.db", timeout=10) as conn:
        return conn.execute("SELECT COUNT(*), COUNT(DISTINCT user_id) FROM home_timeline WHERE tweet_id = ?",
                            (tweet_id,)).fetchone()


async def test_a_fan_out_killed_midway_ends_with_every_follower_holding_the_tweet_once(
        own_mesh: Mesh, edge: httpx.AsyncClient) -> None:
    mesh = own_mesh
    author, *real = [await signup(edge) for _ in range(3)]
    author_id = int(author["userId"])
    for fan in real:
        response = await edge.post(f"/api/v1/users/{author_id}/follow", json={}, headers=bearer(fan["token"]))
        assert response.status_code == 200, response.text
    ids = SnowflakeGenerator(1002)
    fake = [ids.next_id() for _ in range(FOLLOWERS)]
    await seed_followers(mesh, author_id, fake)
    followers = [*fake, *(int(fan["userId"]) for fan in real)]

    async with grpc.aio.insecure_channel(f"127.0.0.1:{mesh.ports.services['timeline']}") as channel:
        stub = timeline_service_pb2_grpc.TimelineServiceStub(channel)
        for fan in real:
            await stub.RebuildHomeTimeline(timeline_service_pb2.RebuildHomeTimelineRequest(user_id=int(fan["userId"])))
    client = valkey.connect(mesh.valkey_url)
    async with client.pipeline(transaction=False) as pipe:
        for user_id in fake:
            pipe.set(layout.built_key(user_id), b"1", ex=3600)
        await pipe.execute()
    await client.aclose()

    nc = await nats.connect(mesh.nats_url)
    delivered: asyncio.Queue[int] = asyncio.Queue()

    async def on_update(msg: Msg) -> None:
        update = timeline_events_pb2.TimelineUpdated.FromString(msg.data)
        delivered.put_nowait(update.tweet_ids[0])

    await nc.subscribe("chirp.timeline.updated.>", cb=on_update)
    await nc.flush()
    try:
        for attempt in range(3):  # a kill that lands after the last page proves nothing: try again
            response = await edge.post("/api/v1/tweets", json={"text": f"to all {attempt}"},
                                       headers=bearer(author["token"]))
            assert response.status_code == 200, response.text
            tweet_id = int(response.json()["tweetId"])
            seen = 0
            while seen < 2:  # the author's own home, then the first page of followers
                seen += await asyncio.wait_for(delivered.get(), timeout=30) == tweet_id
            old_pid = mesh.supervisor.pid("timeline")
            assert old_pid is not None
            mesh.supervisor.kill("timeline")
            await mesh.supervisor.wait_restarted("timeline", old_pid)
            partial = await holders(mesh, followers, tweet_id, author_id)
            if partial < len(followers):
                break
        assert 0 < partial < len(followers), "the fan-out was never caught midway"

        async def everyone_has_it() -> bool:
            return await holders(mesh, followers, tweet_id, author_id) == len(followers)

        await eventually(everyone_has_it, timeout_s=60, what="the tweet in every follower's cached timeline")
        assert persisted(mesh, tweet_id) == (len(followers) + 1, len(followers) + 1)  # and the author's own

        for fan in real:
            response = await edge.get("/api/v1/timeline/home", params={"limit": 100}, headers=bearer(fan["token"]))
            assert response.status_code == 200, response.text
            shown = [item["tweet"]["id"] for item in response.json()["tweets"]]
            assert shown.count(str(tweet_id)) == 1, shown
    finally:
        await nc.close()


async def test_a_poison_event_is_dead_lettered_and_fan_out_goes_on(own_mesh: Mesh, edge: httpx.AsyncClient) -> None:
    mesh = own_mesh
    author, fan = await signup(edge), await signup(edge)
    response = await edge.post(f"/api/v1/users/{author['userId']}/follow", json={}, headers=bearer(fan["token"]))
    assert response.status_code == 200, response.text
    assert (await edge.get("/api/v1/timeline/home", headers=bearer(fan["token"]))).status_code == 200

    nc = await events.connect(mesh.nats_url, "poison-test")
    js = nc.jetstream()
    poison_id = f"poison-{author['userId']}"
    try:
        await js.publish(events.subject("tweet", "created"), b"\xff\xff not a protobuf",
                         headers={events.MSG_ID_HEADER: poison_id,
                                  events.EVENT_TYPE_HEADER: tweet_pb2.DESCRIPTOR.package + ".TweetCreated"})
        dead = await js.pull_subscribe("chirp.deadletter.timeline-fanout", stream=events.DEAD_LETTER_STREAM)

        async def dead_lettered() -> Msg:
            for msg in await dead.fetch(100, timeout=1):
                await msg.ack()
                if msg.headers and msg.headers.get(events.MSG_ID_HEADER) == f"timeline-fanout:{poison_id}":
                    return msg
            raise AssertionError("not dead-lettered yet")

        msg = await eventually(dead_lettered, what="the poison event on the dead-letter stream")
        assert msg.data == b"\xff\xff not a protobuf"
        assert msg.headers["Chirp-Original-Subject"] == "chirp.tweet.created"
        await dead.unsubscribe()
    finally:
        await nc.close()

    response = await edge.post("/api/v1/tweets", json={"text": "after the poison"}, headers=bearer(author["token"]))
    assert response.status_code == 200, response.text
    tweet_id = response.json()["tweetId"]

    async def fanned_out() -> bool:
        reply = await edge.get("/api/v1/timeline/home", headers=bearer(fan["token"]))
        return [item["tweet"]["id"] for item in reply.json()["tweets"]] == [tweet_id]

    await eventually(fanned_out, what="a later tweet fanned out past the poison event")

