import datetime

from chirp.dm.v1 import dm_pb2 as _dm_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageSent(_message.Message):
    __slots__ = ("message", "occurred_at")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    message: _dm_pb2.Message
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, message: _Optional[_Union[_dm_pb2.Message, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MessageDeleted(_message.Message):
    __slots__ = ("message_id", "conversation_id", "sender_id", "recipient_id", "occurred_at")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    message_id: int
    conversation_id: int
    sender_id: int
    recipient_id: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, message_id: _Optional[int] = ..., conversation_id: _Optional[int] = ..., sender_id: _Optional[int] = ..., recipient_id: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
