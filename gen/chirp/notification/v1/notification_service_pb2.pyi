from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.notification.v1 import notification_pb2 as _notification_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListNotificationsRequest(_message.Message):
    __slots__ = ("cursor", "limit", "unread_only")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    UNREAD_ONLY_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    limit: int
    unread_only: bool
    def __init__(self, cursor: _Optional[str] = ..., limit: _Optional[int] = ..., unread_only: _Optional[bool] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_cursor", "unread_count")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[_notification_pb2.Notification]
    next_cursor: str
    unread_count: int
    def __init__(self, notifications: _Optional[_Iterable[_Union[_notification_pb2.Notification, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., unread_count: _Optional[int] = ...) -> None: ...

class MarkNotificationReadRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class MarkNotificationReadResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class MarkAllNotificationsReadRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MarkAllNotificationsReadResponse(_message.Message):
    __slots__ = ("message", "marked_count")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MARKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    message: str
    marked_count: int
    def __init__(self, message: _Optional[str] = ..., marked_count: _Optional[int] = ...) -> None: ...

class StreamNotificationsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetUnreadCountRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetUnreadCountResponse(_message.Message):
    __slots__ = ("unread_count",)
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    unread_count: int
    def __init__(self, unread_count: _Optional[int] = ...) -> None: ...
