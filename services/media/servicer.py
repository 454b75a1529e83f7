"""MediaService over gRPC."""

from __future__ import annotations

from chirp.media.v1 import media_service_pb2_grpc


class MediaServicer(media_service_pb2_grpc.MediaServiceServicer):
    """Owns media objects and their metadata.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until a later issue lands.
    """
