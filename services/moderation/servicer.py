"""ModerationService over gRPC."""

from __future__ import annotations

from chirp.moderation.v1 import moderation_service_pb2_grpc


class ModerationServicer(moderation_service_pb2_grpc.ModerationServiceServicer):
    """Owns reports, moderation actions and content policy.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until a later issue lands.
    """
