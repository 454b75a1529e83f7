from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.engagement.v1 import engagement_pb2 as _engagement_pb2
from chirp.user.v1 import user_pb2 as _user_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LikeTweetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class LikeTweetResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class UnlikeTweetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class UnlikeTweetResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class RetweetRequest(_message.Message):
    __slots__ = ("id", "comment", "request_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    comment: str
    request_id: str
    def __init__(self, id: _Optional[int] = ..., comment: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RetweetResponse(_message.Message):
    __slots__ = ("message", "retweet_id")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETWEET_ID_FIELD_NUMBER: _ClassVar[int]
    message: str
    retweet_id: int
    def __init__(self, message: _Optional[str] = ..., retweet_id: _Optional[int] = ...) -> None: ...

class UnretweetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class UnretweetResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class BookmarkTweetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class BookmarkTweetResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class UnbookmarkTweetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class UnbookmarkTweetResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class ListBookmarksRequest(_message.Message):
    __slots__ = ("cursor", "limit")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    limit: int
    def __init__(self, cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListBookmarksResponse(_message.Message):
    __slots__ = ("tweets", "next_cursor")
    TWEETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tweets: _containers.RepeatedCompositeFieldContainer[_engagement_pb2.Bookmark]
    next_cursor: str
    def __init__(self, tweets: _Optional[_Iterable[_Union[_engagement_pb2.Bookmark, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetEngagementCountsRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class ListLikersRequest(_message.Message):
    __slots__ = ("id", "cursor", "limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: int
    cursor: str
    limit: int
    def __init__(self, id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListLikersResponse(_message.Message):
    __slots__ = ("users", "next_cursor")
    USERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[_user_pb2.Profile]
    next_cursor: str
    def __init__(self, users: _Optional[_Iterable[_Union[_user_pb2.Profile, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class BatchGetEngagementRequest(_message.Message):
    __slots__ = ("viewer_id", "tweet_ids")
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    TWEET_IDS_FIELD_NUMBER: _ClassVar[int]
    viewer_id: int
    tweet_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, viewer_id: _Optional[int] = ..., tweet_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetEngagementResponse(_message.Message):
    __slots__ = ("engagements",)
    class EngagementsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _engagement_pb2.TweetEngagement
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_engagement_pb2.TweetEngagement, _Mapping]] = ...) -> None: ...
    ENGAGEMENTS_FIELD_NUMBER: _ClassVar[int]
    engagements: _containers.MessageMap[int, _engagement_pb2.TweetEngagement]
    def __init__(self, engagements: _Optional[_Mapping[int, _engagement_pb2.TweetEngagement]] = ...) -> None: ...
