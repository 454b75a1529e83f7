import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Followed(_message.Message):
    __slots__ = ("follower_id", "followed_id", "from_request", "occurred_at")
    FOLLOWER_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOWED_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_REQUEST_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    follower_id: int
    followed_id: int
    from_request: bool
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, follower_id: _Optional[int] = ..., followed_id: _Optional[int] = ..., from_request: _Optional[bool] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Unfollowed(_message.Message):
    __slots__ = ("follower_id", "followed_id", "occurred_at")
    FOLLOWER_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOWED_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    follower_id: int
    followed_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, follower_id: _Optional[int] = ..., followed_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FollowRequested(_message.Message):
    __slots__ = ("requester_id", "target_id", "occurred_at")
    REQUESTER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    requester_id: int
    target_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, requester_id: _Optional[int] = ..., target_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FollowRequestApproved(_message.Message):
    __slots__ = ("requester_id", "target_id", "occurred_at")
    REQUESTER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    requester_id: int
    target_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, requester_id: _Optional[int] = ..., target_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FollowRequestRejected(_message.Message):
    __slots__ = ("requester_id", "target_id", "occurred_at")
    REQUESTER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    requester_id: int
    target_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, requester_id: _Optional[int] = ..., target_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Blocked(_message.Message):
    __slots__ = ("blocker_id", "blocked_id", "occurred_at")
    BLOCKER_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    blocker_id: int
    blocked_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, blocker_id: _Optional[int] = ..., blocked_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Unblocked(_message.Message):
    __slots__ = ("blocker_id", "blocked_id", "occurred_at")
    BLOCKER_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    blocker_id: int
    blocked_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, blocker_id: _Optional[int] = ..., blocked_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Muted(_message.Message):
    __slots__ = ("muter_id", "muted_id", "occurred_at")
    MUTER_ID_FIELD_NUMBER: _ClassVar[int]
    MUTED_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    muter_id: int
    muted_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, muter_id: _Optional[int] = ..., muted_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Unmuted(_message.Message):
    __slots__ = ("muter_id", "muted_id", "occurred_at")
    MUTER_ID_FIELD_NUMBER: _ClassVar[int]
    MUTED_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    muter_id: int
    muted_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, muter_id: _Optional[int] = ..., muted_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
