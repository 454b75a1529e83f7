from chirp.moderation.v1 import moderation_service_pb2_grpc
from services.moderation.servicer import ModerationServicer
from services.runtime.server import run_servicer

run_servicer("moderation", moderation_service_pb2_grpc.add_ModerationServiceServicer_to_server, ModerationServicer())
