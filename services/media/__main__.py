from chirp.media.v1 import media_service_pb2_grpc
from services.media.servicer import MediaServicer
from services.runtime.server import run_servicer

run_servicer("media", media_service_pb2_grpc.add_MediaServiceServicer_to_server, MediaServicer())
