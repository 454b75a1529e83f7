"""NotificationService over gRPC."""

from __future__ import annotations

from chirp.notification.v1 import notification_service_pb2_grpc


class NotificationServicer(notification_service_pb2_grpc.NotificationServiceServicer):
    """Owns notifications, their read state and live streams.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until a later issue lands.
    """
