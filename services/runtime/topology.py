"""The services of the mesh, their proto services and default loopback ports.

`make run`, the test fixtures and each service's settings read this one table, so a port or a peer
address is decided in one place and can still be overridden per process by environment variables.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    proto_service: str
    default_port: int
    worker_id: int

    @property
    def env_prefix(self) -> str:
        return f"CHIRP_{self.name.upper()}"


SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo("user", "chirp.user.v1.UserService", 50051, 1),
    ServiceInfo("graph", "chirp.graph.v1.GraphService", 50052, 2),
    ServiceInfo("tweet", "chirp.tweet.v1.TweetService", 50053, 3),
    ServiceInfo("engagement", "chirp.engagement.v1.EngagementService", 50054, 4),
    ServiceInfo("timeline", "chirp.timeline.v1.TimelineService", 50055, 5),
    ServiceInfo("notification", "chirp.notification.v1.NotificationService", 50056, 6),
    ServiceInfo("search", "chirp.search.v1.SearchService", 50057, 7),
    ServiceInfo("media", "chirp.media.v1.MediaService", 50058, 8),
    ServiceInfo("dm", "chirp.dm.v1.DmService", 50059, 9),
    ServiceInfo("moderation", "chirp.moderation.v1.ModerationService", 50060, 10),
)

BY_NAME = {s.name: s for s in SERVICES}


def service(name: str) -> ServiceInfo:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown service {name!r}; known: {', '.join(BY_NAME)}") from None
