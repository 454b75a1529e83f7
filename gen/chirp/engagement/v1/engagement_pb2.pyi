import datetime

from chirp.tweet.v1 import tweet_pb2 as _tweet_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EngagementCounts(_message.Message):
    __slots__ = ("like_count", "retweet_count", "reply_count", "quote_count", "bookmark_count")
    LIKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETWEET_COUNT_FIELD_NUMBER: _ClassVar[int]
    REPLY_COUNT_FIELD_NUMBER: _ClassVar[int]
    QUOTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_COUNT_FIELD_NUMBER: _ClassVar[int]
    like_count: int
    retweet_count: int
    reply_count: int
    quote_count: int
    bookmark_count: int
    def __init__(self, like_count: _Optional[int] = ..., retweet_count: _Optional[int] = ..., reply_count: _Optional[int] = ..., quote_count: _Optional[int] = ..., bookmark_count: _Optional[int] = ...) -> None: ...

class TweetEngagement(_message.Message):
    __slots__ = ("counts", "liked", "retweeted", "bookmarked")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    LIKED_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_FIELD_NUMBER: _ClassVar[int]
    BOOKMARKED_FIELD_NUMBER: _ClassVar[int]
    counts: EngagementCounts
    liked: bool
    retweeted: bool
    bookmarked: bool
    def __init__(self, counts: _Optional[_Union[EngagementCounts, _Mapping]] = ..., liked: _Optional[bool] = ..., retweeted: _Optional[bool] = ..., bookmarked: _Optional[bool] = ...) -> None: ...

class Bookmark(_message.Message):
    __slots__ = ("tweet_id", "tweet", "created_at")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    TWEET_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    tweet: _tweet_pb2.Tweet
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, tweet_id: _Optional[int] = ..., tweet: _Optional[_Union[_tweet_pb2.Tweet, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
