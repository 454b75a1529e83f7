import datetime

from chirp.moderation.v1 import moderation_pb2 as _moderation_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserSuspended(_message.Message):
    __slots__ = ("suspension", "occurred_at")
    SUSPENSION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    suspension: _moderation_pb2.Suspension
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, suspension: _Optional[_Union[_moderation_pb2.Suspension, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UserUnsuspended(_message.Message):
    __slots__ = ("user_id", "unsuspended_by", "occurred_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    UNSUSPENDED_BY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    unsuspended_by: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[int] = ..., unsuspended_by: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContentRemoved(_message.Message):
    __slots__ = ("target_type", "target_id", "author_id", "report_id", "occurred_at")
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    target_type: _moderation_pb2.ReportTargetType
    target_id: int
    author_id: int
    report_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, target_type: _Optional[_Union[_moderation_pb2.ReportTargetType, str]] = ..., target_id: _Optional[int] = ..., author_id: _Optional[int] = ..., report_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportResolved(_message.Message):
    __slots__ = ("report", "author_id", "occurred_at")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    report: _moderation_pb2.Report
    author_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, report: _Optional[_Union[_moderation_pb2.Report, _Mapping]] = ..., author_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
