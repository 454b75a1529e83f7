import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportTargetType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_TARGET_TYPE_UNSPECIFIED: _ClassVar[ReportTargetType]
    REPORT_TARGET_TYPE_TWEET: _ClassVar[ReportTargetType]
    REPORT_TARGET_TYPE_USER: _ClassVar[ReportTargetType]
    REPORT_TARGET_TYPE_MESSAGE: _ClassVar[ReportTargetType]

class ReportReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_REASON_UNSPECIFIED: _ClassVar[ReportReason]
    REPORT_REASON_SPAM: _ClassVar[ReportReason]
    REPORT_REASON_ABUSE: _ClassVar[ReportReason]
    REPORT_REASON_HATE: _ClassVar[ReportReason]
    REPORT_REASON_VIOLENCE: _ClassVar[ReportReason]
    REPORT_REASON_SELF_HARM: _ClassVar[ReportReason]
    REPORT_REASON_IMPERSONATION: _ClassVar[ReportReason]
    REPORT_REASON_OTHER: _ClassVar[ReportReason]

class ReportStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_STATUS_UNSPECIFIED: _ClassVar[ReportStatus]
    REPORT_STATUS_OPEN: _ClassVar[ReportStatus]
    REPORT_STATUS_ACTIONED: _ClassVar[ReportStatus]
    REPORT_STATUS_DISMISSED: _ClassVar[ReportStatus]

class ModerationAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODERATION_ACTION_UNSPECIFIED: _ClassVar[ModerationAction]
    MODERATION_ACTION_DISMISS: _ClassVar[ModerationAction]
    MODERATION_ACTION_REMOVE_CONTENT: _ClassVar[ModerationAction]
    MODERATION_ACTION_SUSPEND_USER: _ClassVar[ModerationAction]
    MODERATION_ACTION_WARN: _ClassVar[ModerationAction]

class ContentVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTENT_VERDICT_UNSPECIFIED: _ClassVar[ContentVerdict]
    CONTENT_VERDICT_ALLOW: _ClassVar[ContentVerdict]
    CONTENT_VERDICT_FLAG: _ClassVar[ContentVerdict]
    CONTENT_VERDICT_BLOCK: _ClassVar[ContentVerdict]
REPORT_TARGET_TYPE_UNSPECIFIED: ReportTargetType
REPORT_TARGET_TYPE_TWEET: ReportTargetType
REPORT_TARGET_TYPE_USER: ReportTargetType
REPORT_TARGET_TYPE_MESSAGE: ReportTargetType
REPORT_REASON_UNSPECIFIED: ReportReason
REPORT_REASON_SPAM: ReportReason
REPORT_REASON_ABUSE: ReportReason
REPORT_REASON_HATE: ReportReason
REPORT_REASON_VIOLENCE: ReportReason
REPORT_REASON_SELF_HARM: ReportReason
REPORT_REASON_IMPERSONATION: ReportReason
REPORT_REASON_OTHER: ReportReason
REPORT_STATUS_UNSPECIFIED: ReportStatus
REPORT_STATUS_OPEN: ReportStatus
REPORT_STATUS_ACTIONED: ReportStatus
REPORT_STATUS_DISMISSED: ReportStatus
MODERATION_ACTION_UNSPECIFIED: ModerationAction
MODERATION_ACTION_DISMISS: ModerationAction
MODERATION_ACTION_REMOVE_CONTENT: ModerationAction
MODERATION_ACTION_SUSPEND_USER: ModerationAction
MODERATION_ACTION_WARN: ModerationAction
CONTENT_VERDICT_UNSPECIFIED: ContentVerdict
CONTENT_VERDICT_ALLOW: ContentVerdict
CONTENT_VERDICT_FLAG: ContentVerdict
CONTENT_VERDICT_BLOCK: ContentVerdict

class Report(_message.Message):
    __slots__ = ("id", "reporter_id", "target_type", "target_id", "reason", "comment", "status", "created_at", "resolved_at", "resolved_by", "action", "resolution_note")
    ID_FIELD_NUMBER: _ClassVar[int]
    REPORTER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    id: int
    reporter_id: int
    target_type: ReportTargetType
    target_id: int
    reason: ReportReason
    comment: str
    status: ReportStatus
    created_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    resolved_by: int
    action: ModerationAction
    resolution_note: str
    def __init__(self, id: _Optional[int] = ..., reporter_id: _Optional[int] = ..., target_type: _Optional[_Union[ReportTargetType, str]] = ..., target_id: _Optional[int] = ..., reason: _Optional[_Union[ReportReason, str]] = ..., comment: _Optional[str] = ..., status: _Optional[_Union[ReportStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_by: _Optional[int] = ..., action: _Optional[_Union[ModerationAction, str]] = ..., resolution_note: _Optional[str] = ...) -> None: ...

class Suspension(_message.Message):
    __slots__ = ("user_id", "reason", "suspended_by", "suspended_at", "until")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUSPENDED_BY_FIELD_NUMBER: _ClassVar[int]
    SUSPENDED_AT_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    reason: str
    suspended_by: int
    suspended_at: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[int] = ..., reason: _Optional[str] = ..., suspended_by: _Optional[int] = ..., suspended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UserStanding(_message.Message):
    __slots__ = ("suspended", "until")
    SUSPENDED_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    suspended: bool
    until: _timestamp_pb2.Timestamp
    def __init__(self, suspended: _Optional[bool] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
