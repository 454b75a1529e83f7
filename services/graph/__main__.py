from chirp.graph.v1 import graph_service_pb2_grpc
from services.graph.servicer import GraphServicer
from services.runtime.server import run_servicer

run_servicer("graph", graph_service_pb2_grpc.add_GraphServiceServicer_to_server, GraphServicer())
