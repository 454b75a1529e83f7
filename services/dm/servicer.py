"""DmService over gRPC."""

from __future__ import annotations

from chirp.dm.v1 import dm_service_pb2_grpc


class DmServicer(dm_service_pb2_grpc.DmServiceServicer):
    """Owns direct-message conversations and messages.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until a later issue lands.
    """
