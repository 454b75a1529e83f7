from chirp.notification.v1 import notification_service_pb2_grpc
from services.notification.servicer import NotificationServicer
from services.runtime.server import run_servicer

run_servicer("notification", notification_service_pb2_grpc.add_NotificationServiceServicer_to_server, NotificationServicer())
