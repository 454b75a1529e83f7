import datetime

from chirp.user.v1 import user_pb2 as _user_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FollowState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FOLLOW_STATE_UNSPECIFIED: _ClassVar[FollowState]
    FOLLOW_STATE_FOLLOWING: _ClassVar[FollowState]
    FOLLOW_STATE_PENDING: _ClassVar[FollowState]
FOLLOW_STATE_UNSPECIFIED: FollowState
FOLLOW_STATE_FOLLOWING: FollowState
FOLLOW_STATE_PENDING: FollowState

class Relationship(_message.Message):
    __slots__ = ("user_id", "following", "followed_by", "pending", "blocking", "blocked_by", "muting")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_FIELD_NUMBER: _ClassVar[int]
    FOLLOWED_BY_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    BLOCKING_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_BY_FIELD_NUMBER: _ClassVar[int]
    MUTING_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    following: bool
    followed_by: bool
    pending: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    def __init__(self, user_id: _Optional[int] = ..., following: _Optional[bool] = ..., followed_by: _Optional[bool] = ..., pending: _Optional[bool] = ..., blocking: _Optional[bool] = ..., blocked_by: _Optional[bool] = ..., muting: _Optional[bool] = ...) -> None: ...

class FollowRequest(_message.Message):
    __slots__ = ("requester", "created_at")
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    requester: _user_pb2.Profile
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, requester: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FollowCounts(_message.Message):
    __slots__ = ("followers_count", "following_count")
    FOLLOWERS_COUNT_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_COUNT_FIELD_NUMBER: _ClassVar[int]
    followers_count: int
    following_count: int
    def __init__(self, followers_count: _Optional[int] = ..., following_count: _Optional[int] = ...) -> None: ...
