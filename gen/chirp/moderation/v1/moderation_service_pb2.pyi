from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.moderation.v1 import moderation_pb2 as _moderation_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateReportRequest(_message.Message):
    __slots__ = ("target_type", "target_id", "reason", "comment", "request_id")
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    target_type: _moderation_pb2.ReportTargetType
    target_id: int
    reason: _moderation_pb2.ReportReason
    comment: str
    request_id: str
    def __init__(self, target_type: _Optional[_Union[_moderation_pb2.ReportTargetType, str]] = ..., target_id: _Optional[int] = ..., reason: _Optional[_Union[_moderation_pb2.ReportReason, str]] = ..., comment: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListReportsRequest(_message.Message):
    __slots__ = ("cursor", "limit")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    limit: int
    def __init__(self, cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListReportsResponse(_message.Message):
    __slots__ = ("reports", "next_cursor")
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[_moderation_pb2.Report]
    next_cursor: str
    def __init__(self, reports: _Optional[_Iterable[_Union[_moderation_pb2.Report, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListModerationReportsRequest(_message.Message):
    __slots__ = ("status", "cursor", "limit")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    status: _moderation_pb2.ReportStatus
    cursor: str
    limit: int
    def __init__(self, status: _Optional[_Union[_moderation_pb2.ReportStatus, str]] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListModerationReportsResponse(_message.Message):
    __slots__ = ("reports", "next_cursor")
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[_moderation_pb2.Report]
    next_cursor: str
    def __init__(self, reports: _Optional[_Iterable[_Union[_moderation_pb2.Report, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ResolveReportRequest(_message.Message):
    __slots__ = ("id", "action", "note")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: int
    action: _moderation_pb2.ModerationAction
    note: str
    def __init__(self, id: _Optional[int] = ..., action: _Optional[_Union[_moderation_pb2.ModerationAction, str]] = ..., note: _Optional[str] = ...) -> None: ...

class SuspendUserRequest(_message.Message):
    __slots__ = ("user_id", "reason", "duration_seconds", "request_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    reason: str
    duration_seconds: int
    request_id: str
    def __init__(self, user_id: _Optional[int] = ..., reason: _Optional[str] = ..., duration_seconds: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class UnsuspendUserRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class UnsuspendUserResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class CheckContentRequest(_message.Message):
    __slots__ = ("author_id", "text")
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    author_id: int
    text: str
    def __init__(self, author_id: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class CheckContentResponse(_message.Message):
    __slots__ = ("verdict", "reasons")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    verdict: _moderation_pb2.ContentVerdict
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, verdict: _Optional[_Union[_moderation_pb2.ContentVerdict, str]] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class GetUserStandingRequest(_message.Message):
    __slots__ = ("user_ids",)
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class GetUserStandingResponse(_message.Message):
    __slots__ = ("standings",)
    class StandingsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _moderation_pb2.UserStanding
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_moderation_pb2.UserStanding, _Mapping]] = ...) -> None: ...
    STANDINGS_FIELD_NUMBER: _ClassVar[int]
    standings: _containers.MessageMap[int, _moderation_pb2.UserStanding]
    def __init__(self, standings: _Optional[_Mapping[int, _moderation_pb2.UserStanding]] = ...) -> None: ...
