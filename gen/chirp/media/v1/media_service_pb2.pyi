from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.media.v1 import media_pb2 as _media_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadMediaRequest(_message.Message):
    __slots__ = ("file", "request_id")
    FILE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    file: _httpbody_pb2.HttpBody
    request_id: str
    def __init__(self, file: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UploadMediaResponse(_message.Message):
    __slots__ = ("media_url", "media_id", "metadata")
    MEDIA_URL_FIELD_NUMBER: _ClassVar[int]
    MEDIA_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    media_url: str
    media_id: int
    metadata: _media_pb2.MediaObject
    def __init__(self, media_url: _Optional[str] = ..., media_id: _Optional[int] = ..., metadata: _Optional[_Union[_media_pb2.MediaObject, _Mapping]] = ...) -> None: ...

class GetMediaRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class GetMediaContentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class BatchGetMediaRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetMediaResponse(_message.Message):
    __slots__ = ("media",)
    class MediaEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _media_pb2.MediaObject
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_media_pb2.MediaObject, _Mapping]] = ...) -> None: ...
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    media: _containers.MessageMap[int, _media_pb2.MediaObject]
    def __init__(self, media: _Optional[_Mapping[int, _media_pb2.MediaObject]] = ...) -> None: ...

class ResolveMediaUrlsRequest(_message.Message):
    __slots__ = ("urls",)
    URLS_FIELD_NUMBER: _ClassVar[int]
    urls: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, urls: _Optional[_Iterable[str]] = ...) -> None: ...

class ResolveMediaUrlsResponse(_message.Message):
    __slots__ = ("media_ids",)
    class MediaIdsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    MEDIA_IDS_FIELD_NUMBER: _ClassVar[int]
    media_ids: _containers.ScalarMap[str, int]
    def __init__(self, media_ids: _Optional[_Mapping[str, int]] = ...) -> None: ...
