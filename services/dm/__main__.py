from chirp.dm.v1 import dm_service_pb2_grpc
from services.dm.servicer import DmServicer
from services.runtime.server import run_servicer

run_servicer("dm", dm_service_pb2_grpc.add_DmServiceServicer_to_server, DmServicer())
