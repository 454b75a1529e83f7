import datetime

from chirp.media.v1 import media_pb2 as _media_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MediaReady(_message.Message):
    __slots__ = ("media", "occurred_at")
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    media: _media_pb2.MediaObject
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, media: _Optional[_Union[_media_pb2.MediaObject, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
