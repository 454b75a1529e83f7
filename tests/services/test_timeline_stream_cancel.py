"""StreamHomeTimeline survives clients that cancel while an update is being sent.

The regression: the handler was an async generator. When a client cancelled while grpc.aio was
sending an update (its task awaiting the write, outside the generator), grpc.aio cancelled its task
and dropped the generator unclosed; asyncio's async-generator finalizer closed it later, after the
RPC had ended and grpc had released the call, and the request-context interceptor's `finally` then
called `context.peer()` on the released call: SIGSEGV (grpcio 1.85.1, Python 3.11), which the
supervisor saw as the timeline process dying with -11 during the bench's fan-out scenario.

The server runs in a child process (this module, run as a script), so a crash fails the test
instead of taking pytest down. It is the real TimelineServicer behind the real interceptors
(`services.runtime.server.serve`), with an update feed that never waits, so almost every cancel
lands while an update is being written: the window the crash needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from chirp.timeline.v1 import timeline_pb2, timeline_service_pb2, timeline_service_pb2_grpc
from services.runtime.auth import Principal

ROOT = Path(__file__).resolve().parents[2]
STREAMS = 400  # open, read a little, cancel; the old handler died within its first three


# --- the child process: the servicer behind the real interceptors ----------------------------------


class _BusyFeed:
    """Updates as fast as the stream takes them, so cancels land mid-write."""

    async def updates(self, *, idle_s: float) -> AsyncIterator[timeline_pb2.TimelineUpdate | None]:
        while True:
            await asyncio.sleep(0)
            yield timeline_pb2.TimelineUpdate(tweet_ids=[1, 2, 3])


class _BusyUpdates:
    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: int) -> AsyncIterator[_BusyFeed]:
        yield _BusyFeed()


class _NeverRevoked:
    async def is_revoked(self, session_id: str) -> bool:
        return False


class _AnyToken:
    async def verify(self, token: str) -> Principal:
        return Principal(int(token), "session")


async def _serve(port_file: Path) -> None:
    from services.runtime.server import App, serve
    from services.runtime.settings import CommonSettings
    from services.timeline.app import SERVICE_NAME
    from services.timeline.servicer import TimelineServicer

    settings = CommonSettings.from_env("timeline", {"CHIRP_DATA_DIR": str(port_file.parent),
                                                    "CHIRP_LOG_LEVEL": "warning"})
    servicer = TimelineServicer(None, None, _BusyUpdates(), _NeverRevoked(),  # type: ignore[arg-type]
                                session_check_s=60.0)
    app = App(servicers=[(timeline_service_pb2_grpc.add_TimelineServiceServicer_to_server, servicer)],
              service_names=[SERVICE_NAME], verifier=_AnyToken())  # type: ignore[arg-type]
    running = await serve(settings, app, port=0)
    port_file.write_text(str(running.port))
    await asyncio.Event().wait()  # until killed


# --- the test -----------------------------------------------------------------------------------------


async def _port(port_file: Path, child: asyncio.subprocess.Process) -> int:
    for _ in range(600):
        if port_file.exists() and port_file.read_text():
            return int(port_file.read_text())
        assert child.returncode is None, f"the server exited with {child.returncode}"
        await asyncio.sleep(0.05)
    raise AssertionError("the server did not start")


async def _cancel_streams(port: int, child: asyncio.subprocess.Process) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = timeline_service_pb2_grpc.TimelineServiceStub(channel)
        for k in range(STREAMS):
            call = stub.StreamHomeTimeline(timeline_service_pb2.StreamHomeTimelineRequest(),
                                           metadata=[("authorization", f"Bearer {k + 1}")])
            read = 0
            async for update in call:
                assert list(update.tweet_ids) == [1, 2, 3]
                read += 1
                if read > k % 3:
                    break
            call.cancel()
            assert child.returncode is None, "the server died"
        # The server still streams after all of it.
        call = stub.StreamHomeTimeline(timeline_service_pb2.StreamHomeTimelineRequest(),
                                       metadata=[("authorization", "Bearer 1")])
        assert list((await call.read()).tweet_ids) == [1, 2, 3]
        call.cancel()


async def test_cancelling_streams_mid_update_does_not_crash_the_server(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-X", "faulthandler", "-m", "tests.services.test_timeline_stream_cancel", str(port_file),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    failure: BaseException | None = None
    try:
        await _cancel_streams(await _port(port_file, child), child)
    except Exception as exc:  # reported below with what the server printed
        failure = exc
    finally:
        alive = child.returncode is None
        if alive:
            child.kill()
        output = (await child.communicate())[0].decode(errors="replace")
    assert failure is None and alive and "Fatal Python error" not in output, f"{failure!r}\n{output}"


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1])))
