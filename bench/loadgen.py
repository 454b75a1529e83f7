"""An open-loop load generator: HTTP/1.1 (JSON through Envoy) and gRPC, from several processes.

Open loop means requests are due at fixed times, `start + i / rate`, whether or not earlier ones
have been answered; latency is measured from that INTENDED send time, so a stalled server shows up
in the percentiles instead of quietly slowing the generator down (the coordinated omission that
closed-loop tools such as wrk suffer from; Debian has wrk but not the open-loop wrk2).

HTTP: raw HTTP/1.1 keep-alive connections, one request in flight on each (as browsers and wrk2
do), opened ahead of the step and added on demand up to a cap; a request due while every connection
is busy waits in a queue, and that wait is part of its latency. gRPC: the generated stubs over a
few HTTP/2 channels, calls multiplexed up to a cap. Each worker process takes an equal share of
the rate; a step is one rate for a fixed duration, after which requests still unanswered `timeout_s`
past the end are counted as timeouts with the time they had waited.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from bench import workloads


@dataclass
class StepSpec:
    workload: str
    protocol: str  # "http" or "grpc"
    port: int
    rate: float  # this worker's share, requests per second
    duration_s: float
    start_at: float  # time.time() when the first request is due
    timeout_s: float
    seed: int
    data_path: str
    params: dict[str, Any] = field(default_factory=dict)
    max_conns: int = 512
    echo_descriptor: str = ""


@dataclass
class StepOutcome:
    scheduled: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # answered OK, seconds, by op
    timeouts: dict[str, list[float]] = field(default_factory=dict)  # unanswered: seconds waited, by op
    errors: dict[str, int] = field(default_factory=dict)  # "op: kind" -> count (timeouts included)
    error_samples: dict[str, str] = field(default_factory=dict)
    cpu_s: float = 0.0
    max_lag_s: float = 0.0  # how far the generator itself fell behind its schedule
    failure: str = ""


class _Recorder:
    def __init__(self, timeout_s: float) -> None:
        self.out = StepOutcome()
        self.timeout_s = timeout_s

    def ok(self, op: str, latency: float) -> None:
        if latency > self.timeout_s:
            self.timeout(op, latency)
        else:
            self.out.latencies.setdefault(op, []).append(latency)

    def timeout(self, op: str, waited: float) -> None:
        self.out.timeouts.setdefault(op, []).append(waited)
        self.error(op, "timeout")

    def error(self, op: str, kind: str, sample: str = "") -> None:
        key = f"{op}: {kind}"
        self.out.errors[key] = self.out.errors.get(key, 0) + 1
        if sample and key not in self.out.error_samples:
            self.out.error_samples[key] = sample[:300]


# --- HTTP/1.1 ------------------------------------------------------------------------------------


class _Req:
    __slots__ = ("op", "payload", "intended")

    def __init__(self, op: str, payload: bytes, intended: float) -> None:
        self.op = op
        self.payload = payload
        self.intended = intended


class _HttpConn(asyncio.Protocol):
    def __init__(self, engine: _HttpEngine) -> None:
        self.engine = engine
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.req: _Req | None = None
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.body_start = -1
        self.status = 0
        self.length: int | None = None
        self.chunked = False
        self.close_after = False
        self.chunk_pos = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, req: _Req) -> None:
        self.req = req
        assert self.transport is not None
        self.transport.write(req.payload)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.req is not None and self._parse():
            pass

    def _parse(self) -> bool:
        buf = self.buf
        if self.body_start < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            self.status = int(lines[0].split(" ", 2)[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    self.length = int(value)
                elif name == "transfer-encoding" and "chunked" in value.lower():
                    self.chunked = True
                elif name == "connection" and "close" in value.lower():
                    self.close_after = True
            self.body_start = self.chunk_pos = end + 4
        if self.chunked:
            while True:
                line_end = buf.find(b"\r\n", self.chunk_pos)
                if line_end < 0:
                    return False
                size = int(bytes(buf[self.chunk_pos:line_end]).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    trailer_end = buf.find(b"\r\n\r\n", line_end)
                    if trailer_end < 0:
                        return False
                    body_end = trailer_end + 4
                    break
                after = line_end + 2 + size + 2
                if len(buf) < after:
                    return False
                self.chunk_pos = after
        elif self.length is not None:
            body_end = self.body_start + self.length
            if len(buf) < body_end:
                return False
        else:
            body_end = self.body_start
        status = self.status
        sample = bytes(buf[self.body_start:body_end]).decode("utf-8", "replace") if status >= 300 else ""
        del buf[:body_end]
        req, self.req = self.req, None
        close = self.close_after
        self._reset()
        assert req is not None
        self.engine.completed(self, req, status, sample)
        if close and self.transport is not None:
            self.transport.close()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.engine.lost(self)


class _HttpEngine:
    def __init__(self, port: int, max_conns: int, rec: _Recorder) -> None:
        self.port = port
        self.max_conns = max_conns
        self.rec = rec
        self.loop = asyncio.get_running_loop()
        self.idle: list[_HttpConn] = []
        self.conns: set[_HttpConn] = set()
        self.pending: deque[_Req] = deque()
        self.connecting = 0
        self.connect_errors = 0
        self.outstanding = 0

    async def open(self, count: int) -> None:
        await asyncio.gather(*(self._connect() for _ in range(count)))

    async def _connect(self) -> None:
        self.connecting += 1
        try:
            _, conn = await self.loop.create_connection(lambda: _HttpConn(self), "127.0.0.1", self.port)
        except OSError as exc:
            self.connect_errors += 1
            self.rec.error("connect", type(exc).__name__)
            return
        finally:
            self.connecting -= 1
        self.conns.add(conn)
        self._free(conn)

    def submit(self, req: _Req) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.pop().send(req)
            return
        self.pending.append(req)
        if len(self.conns) + self.connecting < self.max_conns:
            self.loop.create_task(self._connect())

    def _free(self, conn: _HttpConn) -> None:
        if conn.closed:
            return
        if self.pending:
            conn.send(self.pending.popleft())
        else:
            self.idle.append(conn)

    def completed(self, conn: _HttpConn, req: _Req, status: int, sample: str) -> None:
        self.outstanding -= 1
        latency = self.loop.time() - req.intended
        if 200 <= status < 300:
            self.rec.ok(req.op, latency)
        else:
            self.rec.error(req.op, f"HTTP {status}", sample)
        if not conn.close_after:
            self._free(conn)

    def lost(self, conn: _HttpConn) -> None:
        self.conns.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)
        if conn.req is not None:
            self.outstanding -= 1
            self.rec.error(conn.req.op, "connection lost")
            conn.req = None
        if self.pending and len(self.conns) + self.connecting < self.max_conns:
            self.loop.create_task(self._connect())

    def abandon(self) -> None:
        now = self.loop.time()
        for conn in list(self.conns):
            if conn.req is not None:
                self.rec.timeout(conn.req.op, now - conn.req.intended)
                conn.req = None
            if conn.transport is not None:
                conn.transport.abort()
        while self.pending:
            req = self.pending.popleft()
            self.rec.timeout(req.op, now - req.intended)
        self.outstanding = 0

    def close(self) -> None:
        for conn in list(self.conns):
            if conn.transport is not None:
                conn.transport.close()


# --- gRPC ----------------------------------------------------------------------------------------


def _grpc_types(spec: StepSpec) -> dict[str, Any]:
    from chirp.engagement.v1 import engagement_service_pb2 as epb
    from chirp.graph.v1 import graph_service_pb2 as gpb
    from chirp.timeline.v1 import timeline_service_pb2 as tlpb
    from chirp.tweet.v1 import tweet_service_pb2 as tpb

    types: dict[str, Any] = {
        "GetHomeTimelineRequest": tlpb.GetHomeTimelineRequest,
        "GetUserTimelineRequest": tlpb.GetUserTimelineRequest,
        "CreateTweetRequest": tpb.CreateTweetRequest,
        "LikeTweetRequest": epb.LikeTweetRequest,
        "FollowUserRequest": gpb.FollowUserRequest,
    }
    if spec.echo_descriptor:
        from pathlib import Path

        from bench.echo import EchoTypes

        echo = EchoTypes.load(Path(spec.echo_descriptor))
        types["echo_types"] = echo
        types["echo_request"] = echo.request
    return types


def _stubs(channel: Any, types: dict[str, Any]) -> dict[str, Any]:
    from chirp.engagement.v1 import engagement_service_pb2_grpc as erpc
    from chirp.graph.v1 import graph_service_pb2_grpc as grpc_graph
    from chirp.timeline.v1 import timeline_service_pb2_grpc as tlrpc
    from chirp.tweet.v1 import tweet_service_pb2_grpc as trpc

    stubs: dict[str, Any] = {
        "timeline": tlrpc.TimelineServiceStub(channel),
        "tweet": trpc.TweetServiceStub(channel),
        "engagement": erpc.EngagementServiceStub(channel),
        "graph": grpc_graph.GraphServiceStub(channel),
    }
    if "echo_types" in types:
        echo = types["echo_types"].client_method(channel)
        stubs["echo"] = type("EchoStub", (), {"Echo": staticmethod(echo)})
    return stubs


class _GrpcEngine:
    def __init__(self, port: int, channels: int, max_inflight: int, rec: _Recorder, types: dict[str, Any],
                 timeout_s: float) -> None:
        import grpc

        self.grpc = grpc
        self.loop = asyncio.get_running_loop()
        self.channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(channels)]
        self.stubs = [_stubs(ch, types) for ch in self.channels]
        self.next = 0
        self.max_inflight = max_inflight
        self.inflight = 0
        self.pending: deque[tuple[workloads.GrpcCall, float]] = deque()
        self.rec = rec
        self.timeout_s = timeout_s
        self.tasks: set[asyncio.Task[None]] = set()
        self.outstanding = 0

    async def open(self) -> None:
        await asyncio.gather(*(asyncio.wait_for(ch.channel_ready(), 5) for ch in self.channels))

    def submit(self, call: workloads.GrpcCall, intended: float) -> None:
        self.outstanding += 1
        if self.inflight < self.max_inflight:
            self._start(call, intended)
        else:
            self.pending.append((call, intended))

    def _start(self, call: workloads.GrpcCall, intended: float) -> None:
        self.inflight += 1
        task = self.loop.create_task(self._call(call, intended))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _call(self, call: workloads.GrpcCall, intended: float) -> None:
        stubs = self.stubs[self.next]
        self.next = (self.next + 1) % len(self.stubs)
        method = getattr(stubs[call.service], call.method)
        remaining = max(intended + self.timeout_s - self.loop.time(), 0.001)
        try:
            await method(call.request, metadata=call.metadata, timeout=remaining)
            self.rec.ok(call.op, self.loop.time() - intended)
        except self.grpc.aio.AioRpcError as exc:
            if exc.code() == self.grpc.StatusCode.DEADLINE_EXCEEDED:
                self.rec.timeout(call.op, self.loop.time() - intended)
            else:
                self.rec.error(call.op, f"gRPC {exc.code().name}", exc.details() or "")
        except Exception as exc:  # a broken channel must not stop the step
            self.rec.error(call.op, type(exc).__name__, repr(exc))
        finally:
            self.inflight -= 1
            self.outstanding -= 1
            if self.pending:
                self._start(*self.pending.popleft())

    def abandon(self) -> None:
        now = self.loop.time()
        while self.pending:
            call, intended = self.pending.popleft()
            self.rec.timeout(call.op, now - intended)
            self.outstanding -= 1
        for task in self.tasks:
            task.cancel()

    async def close(self) -> None:
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.gather(*(ch.close() for ch in self.channels), return_exceptions=True)


# --- one step ------------------------------------------------------------------------------------


async def _schedule(spec: StepSpec, submit: Callable[[float], None], rec: _Recorder) -> int:
    """Submits requests at their intended times; returns how many were due."""
    loop = asyncio.get_running_loop()
    count = int(round(spec.rate * spec.duration_s)) if spec.rate > 0 else 0
    if count == 0:
        return 0
    interval = 1.0 / spec.rate
    t0 = loop.time() + (spec.start_at - time.time())
    i = 0
    while i < count:
        now = loop.time()
        due = t0 + i * interval
        if due > now:
            await asyncio.sleep(due - now)
            continue
        rec.out.max_lag_s = max(rec.out.max_lag_s, now - due)
        while i < count and t0 + i * interval <= now:
            submit(t0 + i * interval)
            i += 1
        await asyncio.sleep(0)
    return count


async def run_step(spec: StepSpec) -> StepOutcome:
    rec = _Recorder(spec.timeout_s)
    data = workloads.load_data(spec.data_path)
    workload = workloads.Workload(spec.workload, data, spec.params, spec.seed)
    loop = asyncio.get_running_loop()
    end_by = loop.time() + (spec.start_at - time.time()) + spec.duration_s + spec.timeout_s
    if spec.protocol == "http":
        engine = _HttpEngine(spec.port, spec.max_conns, rec)
        # Enough connections for the expected concurrency at ~20 ms per request, opened before t0.
        await engine.open(max(2, min(spec.max_conns, int(spec.rate * 0.02) + 4)))

        def submit(intended: float) -> None:
            op, payload = workload.http()
            engine.submit(_Req(op, payload, intended))

        rec.out.scheduled = await _schedule(spec, submit, rec)
        while engine.outstanding > 0 and loop.time() < end_by:
            await asyncio.sleep(0.01)
        engine.abandon()
        engine.close()
    else:
        types = _grpc_types(spec)
        grpc_engine = _GrpcEngine(spec.port, 4, 4096, rec, types, spec.timeout_s)
        await grpc_engine.open()

        def submit_grpc(intended: float) -> None:
            grpc_engine.submit(workload.grpc(types), intended)

        rec.out.scheduled = await _schedule(spec, submit_grpc, rec)
        while grpc_engine.outstanding > 0 and loop.time() < end_by:
            await asyncio.sleep(0.01)
        grpc_engine.abandon()
        await grpc_engine.close()
    return rec.out


def _worker_main(conn: Connection) -> None:
    try:
        import uvloop  # type: ignore[import-not-found]

        http_loop: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        http_loop = None
    while True:
        try:
            spec = conn.recv()
        except EOFError:
            return
        if spec is None:
            return
        cpu = time.process_time()
        try:
            factory = http_loop if spec.protocol == "http" else None
            with asyncio.Runner(loop_factory=factory) as runner:
                outcome = runner.run(run_step(spec))
        except BaseException as exc:  # report, do not die: the pool outlives one bad step
            outcome = StepOutcome(failure=repr(exc))
        outcome.cpu_s = time.process_time() - cpu
        conn.send(outcome)


class WorkerPool:
    """Load-generator processes (spawned, so no grpc state is forked), reused across steps."""

    def __init__(self, size: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        for k in range(size):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child,), name=f"bench-loadgen-{k}", daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)

    @property
    def size(self) -> int:
        return len(self._procs)

    def pids(self) -> dict[str, int]:
        return {f"loadgen-{k}": p.pid for k, p in enumerate(self._procs) if p.pid}

    async def run(self, specs: list[StepSpec]) -> list[StepOutcome]:
        if len(specs) > len(self._conns):
            raise ValueError("more specs than workers")
        for conn, spec in zip(self._conns, specs):
            conn.send(spec)
        return list(await asyncio.gather(*(asyncio.to_thread(conn.recv) for conn in self._conns[:len(specs)])))

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
