from chirp.search.v1 import search_service_pb2_grpc
from services.search.servicer import SearchServicer
from services.runtime.server import run_servicer

run_servicer("search", search_service_pb2_grpc.add_SearchServiceServicer_to_server, SearchServicer())
