"""TweetService over gRPC."""

from __future__ import annotations

from chirp.tweet.v1 import tweet_service_pb2_grpc


class TweetServicer(tweet_service_pb2_grpc.TweetServiceServicer):
    """Owns tweets, replies, quotes, polls, media references and entities parsed at write.

    No RPC is built yet: each answers UNIMPLEMENTED (HTTP 501 through Envoy) until issue #4 lands.
    """
