from chirp.timeline.v1 import timeline_service_pb2_grpc
from services.timeline.servicer import TimelineServicer
from services.runtime.server import run_servicer

run_servicer("timeline", timeline_service_pb2_grpc.add_TimelineServiceServicer_to_server, TimelineServicer())
