import datetime

from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.search.v1 import search_pb2 as _search_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SearchRequest(_message.Message):
    __slots__ = ("q", "type", "limit", "cursor")
    Q_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    q: str
    type: str
    limit: int
    cursor: str
    def __init__(self, q: _Optional[str] = ..., type: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results", "next_cursor")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_search_pb2.SearchResult]
    next_cursor: str
    def __init__(self, results: _Optional[_Iterable[_Union[_search_pb2.SearchResult, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetTrendsRequest(_message.Message):
    __slots__ = ("limit", "window")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    limit: int
    window: str
    def __init__(self, limit: _Optional[int] = ..., window: _Optional[str] = ...) -> None: ...

class GetTrendsResponse(_message.Message):
    __slots__ = ("trends", "generated_at")
    TRENDS_FIELD_NUMBER: _ClassVar[int]
    GENERATED_AT_FIELD_NUMBER: _ClassVar[int]
    trends: _containers.RepeatedCompositeFieldContainer[_search_pb2.Trend]
    generated_at: _timestamp_pb2.Timestamp
    def __init__(self, trends: _Optional[_Iterable[_Union[_search_pb2.Trend, _Mapping]]] = ..., generated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
