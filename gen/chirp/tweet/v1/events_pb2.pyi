import datetime

from chirp.tweet.v1 import tweet_pb2 as _tweet_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TweetCreated(_message.Message):
    __slots__ = ("tweet", "occurred_at")
    TWEET_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    tweet: _tweet_pb2.Tweet
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, tweet: _Optional[_Union[_tweet_pb2.Tweet, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TweetDeleted(_message.Message):
    __slots__ = ("tweet_id", "author_id", "reply_to_tweet_id", "quote_tweet_id", "occurred_at")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    author_id: int
    reply_to_tweet_id: int
    quote_tweet_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, tweet_id: _Optional[int] = ..., author_id: _Optional[int] = ..., reply_to_tweet_id: _Optional[int] = ..., quote_tweet_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PollVoted(_message.Message):
    __slots__ = ("tweet_id", "author_id", "voter_id", "option_index", "occurred_at")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    VOTER_ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_INDEX_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    author_id: int
    voter_id: int
    option_index: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, tweet_id: _Optional[int] = ..., author_id: _Optional[int] = ..., voter_id: _Optional[int] = ..., option_index: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
