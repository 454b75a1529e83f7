"""EngagementService over gRPC."""

from __future__ import annotations

from chirp.engagement.v1 import engagement_service_pb2_grpc


class EngagementServicer(engagement_service_pb2_grpc.EngagementServiceServicer):
    """Owns likes, retweets, bookmarks and their counts.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until issue #4 lands.
    """
