from chirp.tweet.v1 import tweet_service_pb2_grpc
from services.tweet.servicer import TweetServicer
from services.runtime.server import run_servicer

run_servicer("tweet", tweet_service_pb2_grpc.add_TweetServiceServicer_to_server, TweetServicer())
