import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TimelineUpdated(_message.Message):
    __slots__ = ("user_id", "tweet_ids", "occurred_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TWEET_IDS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    tweet_ids: _containers.RepeatedScalarFieldContainer[int]
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[int] = ..., tweet_ids: _Optional[_Iterable[int]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
