import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MediaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_TYPE_UNSPECIFIED: _ClassVar[MediaType]
    MEDIA_TYPE_IMAGE: _ClassVar[MediaType]
    MEDIA_TYPE_VIDEO: _ClassVar[MediaType]
    MEDIA_TYPE_GIF: _ClassVar[MediaType]

class MediaState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEDIA_STATE_UNSPECIFIED: _ClassVar[MediaState]
    MEDIA_STATE_PROCESSING: _ClassVar[MediaState]
    MEDIA_STATE_READY: _ClassVar[MediaState]
    MEDIA_STATE_FAILED: _ClassVar[MediaState]
MEDIA_TYPE_UNSPECIFIED: MediaType
MEDIA_TYPE_IMAGE: MediaType
MEDIA_TYPE_VIDEO: MediaType
MEDIA_TYPE_GIF: MediaType
MEDIA_STATE_UNSPECIFIED: MediaState
MEDIA_STATE_PROCESSING: MediaState
MEDIA_STATE_READY: MediaState
MEDIA_STATE_FAILED: MediaState

class MediaObject(_message.Message):
    __slots__ = ("id", "owner_id", "media_type", "content_type", "size_bytes", "width", "height", "duration_ms", "url", "created_at", "state")
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    id: int
    owner_id: int
    media_type: MediaType
    content_type: str
    size_bytes: int
    width: int
    height: int
    duration_ms: int
    url: str
    created_at: _timestamp_pb2.Timestamp
    state: MediaState
    def __init__(self, id: _Optional[int] = ..., owner_id: _Optional[int] = ..., media_type: _Optional[_Union[MediaType, str]] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., duration_ms: _Optional[int] = ..., url: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[MediaState, str]] = ...) -> None: ...
