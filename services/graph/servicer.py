"""GraphService over gRPC."""

from __future__ import annotations

from chirp.graph.v1 import graph_service_pb2_grpc


class GraphServicer(graph_service_pb2_grpc.GraphServiceServicer):
    """Owns follows, follow requests, blocks, mutes and follower counts.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until issue #3 lands.
    """
