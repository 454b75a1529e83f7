import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Profile(_message.Message):
    __slots__ = ("id", "username", "name", "bio", "location", "website", "avatar_url", "is_private", "created_at", "followers_count", "following_count", "tweets_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BIO_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    WEBSITE_FIELD_NUMBER: _ClassVar[int]
    AVATAR_URL_FIELD_NUMBER: _ClassVar[int]
    IS_PRIVATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FOLLOWERS_COUNT_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_COUNT_FIELD_NUMBER: _ClassVar[int]
    TWEETS_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: int
    username: str
    name: str
    bio: str
    location: str
    website: str
    avatar_url: str
    is_private: bool
    created_at: _timestamp_pb2.Timestamp
    followers_count: int
    following_count: int
    tweets_count: int
    def __init__(self, id: _Optional[int] = ..., username: _Optional[str] = ..., name: _Optional[str] = ..., bio: _Optional[str] = ..., location: _Optional[str] = ..., website: _Optional[str] = ..., avatar_url: _Optional[str] = ..., is_private: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., followers_count: _Optional[int] = ..., following_count: _Optional[int] = ..., tweets_count: _Optional[int] = ...) -> None: ...

class NotificationPrefs(_message.Message):
    __slots__ = ("follows", "likes", "retweets", "replies", "mentions", "direct_messages", "email")
    FOLLOWS_FIELD_NUMBER: _ClassVar[int]
    LIKES_FIELD_NUMBER: _ClassVar[int]
    RETWEETS_FIELD_NUMBER: _ClassVar[int]
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    MENTIONS_FIELD_NUMBER: _ClassVar[int]
    DIRECT_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    follows: bool
    likes: bool
    retweets: bool
    replies: bool
    mentions: bool
    direct_messages: bool
    email: bool
    def __init__(self, follows: _Optional[bool] = ..., likes: _Optional[bool] = ..., retweets: _Optional[bool] = ..., replies: _Optional[bool] = ..., mentions: _Optional[bool] = ..., direct_messages: _Optional[bool] = ..., email: _Optional[bool] = ...) -> None: ...

class PrivacySettings(_message.Message):
    __slots__ = ("is_private", "muted_users", "blocked_users", "notification_prefs")
    IS_PRIVATE_FIELD_NUMBER: _ClassVar[int]
    MUTED_USERS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_USERS_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_PREFS_FIELD_NUMBER: _ClassVar[int]
    is_private: bool
    muted_users: _containers.RepeatedScalarFieldContainer[int]
    blocked_users: _containers.RepeatedScalarFieldContainer[int]
    notification_prefs: NotificationPrefs
    def __init__(self, is_private: _Optional[bool] = ..., muted_users: _Optional[_Iterable[int]] = ..., blocked_users: _Optional[_Iterable[int]] = ..., notification_prefs: _Optional[_Union[NotificationPrefs, _Mapping]] = ...) -> None: ...
