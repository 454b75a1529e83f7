import datetime

from chirp.user.v1 import user_pb2 as _user_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TimelineItemKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIMELINE_ITEM_KIND_UNSPECIFIED: _ClassVar[TimelineItemKind]
    TIMELINE_ITEM_KIND_TWEET: _ClassVar[TimelineItemKind]
    TIMELINE_ITEM_KIND_RETWEET: _ClassVar[TimelineItemKind]
    TIMELINE_ITEM_KIND_SUGGESTION: _ClassVar[TimelineItemKind]
TIMELINE_ITEM_KIND_UNSPECIFIED: TimelineItemKind
TIMELINE_ITEM_KIND_TWEET: TimelineItemKind
TIMELINE_ITEM_KIND_RETWEET: TimelineItemKind
TIMELINE_ITEM_KIND_SUGGESTION: TimelineItemKind

class HydratedTweet(_message.Message):
    __slots__ = ("id", "author", "text", "created_at", "reply_to_tweet_id", "conversation_id", "media_urls", "hashtags", "mention_user_ids", "quoted_tweet_id", "quoted_tweet", "like_count", "retweet_count", "reply_count", "quote_count", "bookmark_count", "liked", "retweeted", "bookmarked")
    ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URLS_FIELD_NUMBER: _ClassVar[int]
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    MENTION_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    QUOTED_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTED_TWEET_FIELD_NUMBER: _ClassVar[int]
    LIKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    RETWEET_COUNT_FIELD_NUMBER: _ClassVar[int]
    REPLY_COUNT_FIELD_NUMBER: _ClassVar[int]
    QUOTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    BOOKMARK_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIKED_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_FIELD_NUMBER: _ClassVar[int]
    BOOKMARKED_FIELD_NUMBER: _ClassVar[int]
    id: int
    author: _user_pb2.Profile
    text: str
    created_at: _timestamp_pb2.Timestamp
    reply_to_tweet_id: int
    conversation_id: int
    media_urls: _containers.RepeatedScalarFieldContainer[str]
    hashtags: _containers.RepeatedScalarFieldContainer[str]
    mention_user_ids: _containers.RepeatedScalarFieldContainer[int]
    quoted_tweet_id: int
    quoted_tweet: HydratedTweet
    like_count: int
    retweet_count: int
    reply_count: int
    quote_count: int
    bookmark_count: int
    liked: bool
    retweeted: bool
    bookmarked: bool
    def __init__(self, id: _Optional[int] = ..., author: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., text: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reply_to_tweet_id: _Optional[int] = ..., conversation_id: _Optional[int] = ..., media_urls: _Optional[_Iterable[str]] = ..., hashtags: _Optional[_Iterable[str]] = ..., mention_user_ids: _Optional[_Iterable[int]] = ..., quoted_tweet_id: _Optional[int] = ..., quoted_tweet: _Optional[_Union[HydratedTweet, _Mapping]] = ..., like_count: _Optional[int] = ..., retweet_count: _Optional[int] = ..., reply_count: _Optional[int] = ..., quote_count: _Optional[int] = ..., bookmark_count: _Optional[int] = ..., liked: _Optional[bool] = ..., retweeted: _Optional[bool] = ..., bookmarked: _Optional[bool] = ...) -> None: ...

class TimelineItem(_message.Message):
    __slots__ = ("tweet", "kind", "retweeted_by", "is_suggestion")
    TWEET_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RETWEETED_BY_FIELD_NUMBER: _ClassVar[int]
    IS_SUGGESTION_FIELD_NUMBER: _ClassVar[int]
    tweet: HydratedTweet
    kind: TimelineItemKind
    retweeted_by: _user_pb2.Profile
    is_suggestion: bool
    def __init__(self, tweet: _Optional[_Union[HydratedTweet, _Mapping]] = ..., kind: _Optional[_Union[TimelineItemKind, str]] = ..., retweeted_by: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., is_suggestion: _Optional[bool] = ...) -> None: ...

class TimelineUpdate(_message.Message):
    __slots__ = ("tweet_ids", "updated_at")
    TWEET_IDS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    tweet_ids: _containers.RepeatedScalarFieldContainer[int]
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, tweet_ids: _Optional[_Iterable[int]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
