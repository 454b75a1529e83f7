"""SearchService over gRPC."""

from __future__ import annotations

from chirp.search.v1 import search_service_pb2_grpc


class SearchServicer(search_service_pb2_grpc.SearchServiceServicer):
    """Owns the Tantivy index of tweets, users and hashtags, and trends.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until a later issue lands.
    """
