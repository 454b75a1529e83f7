import datetime

from chirp.user.v1 import user_pb2 as _user_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_TYPE_UNSPECIFIED: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_FOLLOW: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_FOLLOW_REQUEST: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_LIKE: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_RETWEET: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_REPLY: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_MENTION: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_QUOTE: _ClassVar[NotificationType]
    NOTIFICATION_TYPE_FOLLOW_REQUEST_APPROVED: _ClassVar[NotificationType]
NOTIFICATION_TYPE_UNSPECIFIED: NotificationType
NOTIFICATION_TYPE_FOLLOW: NotificationType
NOTIFICATION_TYPE_FOLLOW_REQUEST: NotificationType
NOTIFICATION_TYPE_LIKE: NotificationType
NOTIFICATION_TYPE_RETWEET: NotificationType
NOTIFICATION_TYPE_REPLY: NotificationType
NOTIFICATION_TYPE_MENTION: NotificationType
NOTIFICATION_TYPE_QUOTE: NotificationType
NOTIFICATION_TYPE_FOLLOW_REQUEST_APPROVED: NotificationType

class Notification(_message.Message):
    __slots__ = ("id", "type", "source_user", "tweet_id", "created_at", "is_read", "summary")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_USER_FIELD_NUMBER: _ClassVar[int]
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    IS_READ_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    id: int
    type: NotificationType
    source_user: _user_pb2.Profile
    tweet_id: int
    created_at: _timestamp_pb2.Timestamp
    is_read: bool
    summary: str
    def __init__(self, id: _Optional[int] = ..., type: _Optional[_Union[NotificationType, str]] = ..., source_user: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., tweet_id: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., is_read: _Optional[bool] = ..., summary: _Optional[str] = ...) -> None: ...
