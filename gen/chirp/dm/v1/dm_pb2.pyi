import datetime

from chirp.user.v1 import user_pb2 as _user_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Message(_message.Message):
    __slots__ = ("id", "conversation_id", "sender_id", "recipient_id", "text", "media_url", "created_at", "deleted")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    id: int
    conversation_id: int
    sender_id: int
    recipient_id: int
    text: str
    media_url: str
    created_at: _timestamp_pb2.Timestamp
    deleted: bool
    def __init__(self, id: _Optional[int] = ..., conversation_id: _Optional[int] = ..., sender_id: _Optional[int] = ..., recipient_id: _Optional[int] = ..., text: _Optional[str] = ..., media_url: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted: _Optional[bool] = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("id", "other_user", "last_message", "unread_count", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    OTHER_USER_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    other_user: _user_pb2.Profile
    last_message: Message
    unread_count: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., other_user: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., last_message: _Optional[_Union[Message, _Mapping]] = ..., unread_count: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
