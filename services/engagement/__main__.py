from chirp.engagement.v1 import engagement_service_pb2_grpc
from services.engagement.servicer import EngagementServicer
from services.runtime.server import run_servicer

run_servicer("engagement", engagement_service_pb2_grpc.add_EngagementServiceServicer_to_server, EngagementServicer())
