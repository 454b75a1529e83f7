"""TimelineService over gRPC."""

from __future__ import annotations

from chirp.timeline.v1 import timeline_service_pb2_grpc


class TimelineServicer(timeline_service_pb2_grpc.TimelineServiceServicer):
    """Owns materialised home timelines and the user timeline index.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until issue #5 lands.
    """
