"""The ceiling's echo service: its contract compiled at start-up, and the bare grpc.aio server.

bench/protos/bench/echo/v1/echo_service.proto is compiled with grpc_tools.protoc into a descriptor
set under the run's scratch directory (bench/results/tmp/, gitignored). Envoy's transcoder loads that
set; Python builds the message classes from it in a pool of its own, so nothing is generated into
gen/ and nothing touches sys.path.

`python -m bench.echo --port P --descriptor-set F` runs the server: no interceptors, no logging, no
auth, nothing but the echo, which is the point of a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO_ROOT = Path(__file__).resolve().parent / "protos"
PROTO_FILE = "bench/echo/v1/echo_service.proto"
SERVICE = "bench.echo.v1.EchoService"
METHOD_PATH = f"/{SERVICE}/Echo"
HTTP_PATH = "/bench/v1/echo"


def _include_paths() -> list[Path]:
    import grpc_tools

    # google/api is a namespace package in a clean install: find it through a module file.
    spec = importlib.util.find_spec("google.api.annotations_pb2")
    assert spec is not None and spec.origin is not None, "googleapis-common-protos is not installed"
    return [PROTO_ROOT, Path(spec.origin).parents[2], Path(grpc_tools.__file__).parent / "_proto"]


def compile_descriptor_set(out: Path) -> Path:
    """Compiles the echo contract and its imports into a FileDescriptorSet at `out`."""
    from grpc_tools import protoc

    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["protoc", *(f"-I{p}" for p in _include_paths()), "--include_imports", f"--descriptor_set_out={out}",
            PROTO_FILE]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc could not compile {PROTO_ROOT / PROTO_FILE}")
    return out


@dataclass(frozen=True)
class EchoTypes:
    request: Any
    response: Any

    @classmethod
    def load(cls, descriptor_set: Path) -> EchoTypes:
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
        pool = descriptor_pool.DescriptorPool()
        for file in files.file:
            pool.Add(file)
        return cls(
            request=message_factory.GetMessageClass(pool.FindMessageTypeByName("bench.echo.v1.EchoRequest")),
            response=message_factory.GetMessageClass(pool.FindMessageTypeByName("bench.echo.v1.EchoResponse")),
        )

    def client_method(self, channel: grpc.aio.Channel) -> Any:
        """The Echo method on a channel, as a generated stub would offer it."""
        return channel.unary_unary(
            METHOD_PATH, request_serializer=self.request.SerializeToString,
            response_deserializer=self.response.FromString,
        )


async def serve(port: int, descriptor_set: Path) -> None:
    types = EchoTypes.load(descriptor_set)
    response_type = types.response

    async def echo(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return response_type(message=request.message)

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Echo": grpc.unary_unary_rpc_method_handler(
            echo, request_deserializer=types.request.FromString,
            response_serializer=response_type.SerializeToString),
    })
    server.add_generic_rpc_handlers((handler,))
    if server.add_insecure_port(f"127.0.0.1:{port}") == 0:
        raise SystemExit(f"could not bind 127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"echo serving on 127.0.0.1:{port}", flush=True)
    await stop.wait()
    await server.stop(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.echo", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--descriptor-set", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.descriptor_set))


if __name__ == "__main__":
    main()
