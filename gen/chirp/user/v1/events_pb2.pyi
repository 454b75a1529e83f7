import datetime

from chirp.user.v1 import user_pb2 as _user_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserCreated(_message.Message):
    __slots__ = ("profile", "occurred_at")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    profile: _user_pb2.Profile
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, profile: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UserUpdated(_message.Message):
    __slots__ = ("profile", "changed_fields", "occurred_at")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    profile: _user_pb2.Profile
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, profile: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UserDeleted(_message.Message):
    __slots__ = ("user_id", "occurred_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SessionRevoked(_message.Message):
    __slots__ = ("user_id", "session_id", "expires_at", "occurred_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    session_id: str
    expires_at: _timestamp_pb2.Timestamp
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[int] = ..., session_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
