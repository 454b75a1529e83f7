from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.timeline.v1 import timeline_pb2 as _timeline_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetHomeTimelineRequest(_message.Message):
    __slots__ = ("cursor", "limit", "filter")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    limit: int
    filter: str
    def __init__(self, cursor: _Optional[str] = ..., limit: _Optional[int] = ..., filter: _Optional[str] = ...) -> None: ...

class GetHomeTimelineResponse(_message.Message):
    __slots__ = ("tweets", "next_cursor")
    TWEETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tweets: _containers.RepeatedCompositeFieldContainer[_timeline_pb2.TimelineItem]
    next_cursor: str
    def __init__(self, tweets: _Optional[_Iterable[_Union[_timeline_pb2.TimelineItem, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetUserTimelineRequest(_message.Message):
    __slots__ = ("user_id", "cursor", "limit", "filter")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    cursor: str
    limit: int
    filter: str
    def __init__(self, user_id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ..., filter: _Optional[str] = ...) -> None: ...

class GetUserTimelineResponse(_message.Message):
    __slots__ = ("tweets", "next_cursor")
    TWEETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tweets: _containers.RepeatedCompositeFieldContainer[_timeline_pb2.TimelineItem]
    next_cursor: str
    def __init__(self, tweets: _Optional[_Iterable[_Union[_timeline_pb2.TimelineItem, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class StreamHomeTimelineRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RebuildHomeTimelineRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class RebuildHomeTimelineResponse(_message.Message):
    __slots__ = ("entry_count",)
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    entry_count: int
    def __init__(self, entry_count: _Optional[int] = ...) -> None: ...
