import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIBILITY_UNSPECIFIED: _ClassVar[Visibility]
    VISIBILITY_PUBLIC: _ClassVar[Visibility]
    VISIBILITY_FOLLOWERS: _ClassVar[Visibility]
VISIBILITY_UNSPECIFIED: Visibility
VISIBILITY_PUBLIC: Visibility
VISIBILITY_FOLLOWERS: Visibility

class Tweet(_message.Message):
    __slots__ = ("id", "author_id", "text", "created_at", "reply_to_tweet_id", "conversation_id", "quote_tweet_id", "quoted_tweet", "media_urls", "media_ids", "poll", "location", "entities", "language", "sensitive", "visibility")
    ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_TWEET_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URLS_FIELD_NUMBER: _ClassVar[int]
    MEDIA_IDS_FIELD_NUMBER: _ClassVar[int]
    POLL_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SENSITIVE_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    id: int
    author_id: int
    text: str
    created_at: _timestamp_pb2.Timestamp
    reply_to_tweet_id: int
    conversation_id: int
    quote_tweet_id: int
    quoted_tweet: Tweet
    media_urls: _containers.RepeatedScalarFieldContainer[str]
    media_ids: _containers.RepeatedScalarFieldContainer[int]
    poll: Poll
    location: str
    entities: Entities
    language: str
    sensitive: bool
    visibility: Visibility
    def __init__(self, id: _Optional[int] = ..., author_id: _Optional[int] = ..., text: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reply_to_tweet_id: _Optional[int] = ..., conversation_id: _Optional[int] = ..., quote_tweet_id: _Optional[int] = ..., quoted_tweet: _Optional[_Union[Tweet, _Mapping]] = ..., media_urls: _Optional[_Iterable[str]] = ..., media_ids: _Optional[_Iterable[int]] = ..., poll: _Optional[_Union[Poll, _Mapping]] = ..., location: _Optional[str] = ..., entities: _Optional[_Union[Entities, _Mapping]] = ..., language: _Optional[str] = ..., sensitive: _Optional[bool] = ..., visibility: _Optional[_Union[Visibility, str]] = ...) -> None: ...

class Poll(_message.Message):
    __slots__ = ("options", "ends_at", "viewer_option_index", "closed")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    VIEWER_OPTION_INDEX_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    options: _containers.RepeatedCompositeFieldContainer[PollOption]
    ends_at: _timestamp_pb2.Timestamp
    viewer_option_index: int
    closed: bool
    def __init__(self, options: _Optional[_Iterable[_Union[PollOption, _Mapping]]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., viewer_option_index: _Optional[int] = ..., closed: _Optional[bool] = ...) -> None: ...

class PollOption(_message.Message):
    __slots__ = ("text", "vote_count")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VOTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    text: str
    vote_count: int
    def __init__(self, text: _Optional[str] = ..., vote_count: _Optional[int] = ...) -> None: ...

class Entities(_message.Message):
    __slots__ = ("mentions", "hashtags", "urls")
    MENTIONS_FIELD_NUMBER: _ClassVar[int]
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    URLS_FIELD_NUMBER: _ClassVar[int]
    mentions: _containers.RepeatedCompositeFieldContainer[Mention]
    hashtags: _containers.RepeatedCompositeFieldContainer[Hashtag]
    urls: _containers.RepeatedCompositeFieldContainer[Url]
    def __init__(self, mentions: _Optional[_Iterable[_Union[Mention, _Mapping]]] = ..., hashtags: _Optional[_Iterable[_Union[Hashtag, _Mapping]]] = ..., urls: _Optional[_Iterable[_Union[Url, _Mapping]]] = ...) -> None: ...

class Mention(_message.Message):
    __slots__ = ("user_id", "username", "start", "end")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    username: str
    start: int
    end: int
    def __init__(self, user_id: _Optional[int] = ..., username: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Hashtag(_message.Message):
    __slots__ = ("tag", "text", "start", "end")
    TAG_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    tag: str
    text: str
    start: int
    end: int
    def __init__(self, tag: _Optional[str] = ..., text: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class Url(_message.Message):
    __slots__ = ("url", "start", "end")
    URL_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    url: str
    start: int
    end: int
    def __init__(self, url: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...
