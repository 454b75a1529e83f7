import datetime

from chirp.user.v1 import user_pb2 as _user_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TweetHit(_message.Message):
    __slots__ = ("id", "author_id", "author_username", "text", "created_at", "score")
    ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_USERNAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    id: int
    author_id: int
    author_username: str
    text: str
    created_at: _timestamp_pb2.Timestamp
    score: float
    def __init__(self, id: _Optional[int] = ..., author_id: _Optional[int] = ..., author_username: _Optional[str] = ..., text: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., score: _Optional[float] = ...) -> None: ...

class HashtagHit(_message.Message):
    __slots__ = ("tag", "tweet_count")
    TAG_FIELD_NUMBER: _ClassVar[int]
    TWEET_COUNT_FIELD_NUMBER: _ClassVar[int]
    tag: str
    tweet_count: int
    def __init__(self, tag: _Optional[str] = ..., tweet_count: _Optional[int] = ...) -> None: ...

class SearchResult(_message.Message):
    __slots__ = ("tweet", "user", "hashtag")
    TWEET_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    HASHTAG_FIELD_NUMBER: _ClassVar[int]
    tweet: TweetHit
    user: _user_pb2.Profile
    hashtag: HashtagHit
    def __init__(self, tweet: _Optional[_Union[TweetHit, _Mapping]] = ..., user: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., hashtag: _Optional[_Union[HashtagHit, _Mapping]] = ...) -> None: ...

class Trend(_message.Message):
    __slots__ = ("hashtag", "tweet_count", "rank")
    HASHTAG_FIELD_NUMBER: _ClassVar[int]
    TWEET_COUNT_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    hashtag: str
    tweet_count: int
    rank: int
    def __init__(self, hashtag: _Optional[str] = ..., tweet_count: _Optional[int] = ..., rank: _Optional[int] = ...) -> None: ...
