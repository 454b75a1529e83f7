from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.graph.v1 import graph_pb2 as _graph_pb2
from chirp.user.v1 import user_pb2 as _user_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FollowUserRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class FollowUserResponse(_message.Message):
    __slots__ = ("message", "state")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    message: str
    state: _graph_pb2.FollowState
    def __init__(self, message: _Optional[str] = ..., state: _Optional[_Union[_graph_pb2.FollowState, str]] = ...) -> None: ...

class UnfollowUserRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class UnfollowUserResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class ListFollowersRequest(_message.Message):
    __slots__ = ("id", "cursor", "limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: int
    cursor: str
    limit: int
    def __init__(self, id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListFollowersResponse(_message.Message):
    __slots__ = ("followers", "next_cursor")
    FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    followers: _containers.RepeatedCompositeFieldContainer[_user_pb2.Profile]
    next_cursor: str
    def __init__(self, followers: _Optional[_Iterable[_Union[_user_pb2.Profile, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListFollowingRequest(_message.Message):
    __slots__ = ("id", "cursor", "limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: int
    cursor: str
    limit: int
    def __init__(self, id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListFollowingResponse(_message.Message):
    __slots__ = ("following", "next_cursor")
    FOLLOWING_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    following: _containers.RepeatedCompositeFieldContainer[_user_pb2.Profile]
    next_cursor: str
    def __init__(self, following: _Optional[_Iterable[_Union[_user_pb2.Profile, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class BlockUserRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class BlockUserResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class UnblockUserRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class UnblockUserResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class MuteUserRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class MuteUserResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class UnmuteUserRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class UnmuteUserResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class ListFollowRequestsRequest(_message.Message):
    __slots__ = ("cursor", "limit")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    limit: int
    def __init__(self, cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListFollowRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_cursor")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[_graph_pb2.FollowRequest]
    next_cursor: str
    def __init__(self, requests: _Optional[_Iterable[_Union[_graph_pb2.FollowRequest, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ApproveFollowRequestRequest(_message.Message):
    __slots__ = ("requester_id",)
    REQUESTER_ID_FIELD_NUMBER: _ClassVar[int]
    requester_id: int
    def __init__(self, requester_id: _Optional[int] = ...) -> None: ...

class ApproveFollowRequestResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class RejectFollowRequestRequest(_message.Message):
    __slots__ = ("requester_id",)
    REQUESTER_ID_FIELD_NUMBER: _ClassVar[int]
    requester_id: int
    def __init__(self, requester_id: _Optional[int] = ...) -> None: ...

class RejectFollowRequestResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class GetRelationshipRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class BatchGetRelationshipsRequest(_message.Message):
    __slots__ = ("viewer_id", "target_ids")
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_IDS_FIELD_NUMBER: _ClassVar[int]
    viewer_id: int
    target_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, viewer_id: _Optional[int] = ..., target_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetRelationshipsResponse(_message.Message):
    __slots__ = ("relationships",)
    class RelationshipsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _graph_pb2.Relationship
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_graph_pb2.Relationship, _Mapping]] = ...) -> None: ...
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    relationships: _containers.MessageMap[int, _graph_pb2.Relationship]
    def __init__(self, relationships: _Optional[_Mapping[int, _graph_pb2.Relationship]] = ...) -> None: ...

class StreamFollowerIdsRequest(_message.Message):
    __slots__ = ("user_id", "page_size")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    page_size: int
    def __init__(self, user_id: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class StreamFollowerIdsResponse(_message.Message):
    __slots__ = ("follower_ids",)
    FOLLOWER_IDS_FIELD_NUMBER: _ClassVar[int]
    follower_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, follower_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetFollowCountsRequest(_message.Message):
    __slots__ = ("user_ids",)
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetFollowCountsResponse(_message.Message):
    __slots__ = ("counts",)
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _graph_pb2.FollowCounts
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_graph_pb2.FollowCounts, _Mapping]] = ...) -> None: ...
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.MessageMap[int, _graph_pb2.FollowCounts]
    def __init__(self, counts: _Optional[_Mapping[int, _graph_pb2.FollowCounts]] = ...) -> None: ...

class ListBlockedIdsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class ListBlockedIdsResponse(_message.Message):
    __slots__ = ("blocked_ids",)
    BLOCKED_IDS_FIELD_NUMBER: _ClassVar[int]
    blocked_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, blocked_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ListMutedIdsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class ListMutedIdsResponse(_message.Message):
    __slots__ = ("muted_ids",)
    MUTED_IDS_FIELD_NUMBER: _ClassVar[int]
    muted_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, muted_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ReplaceBlockListRequest(_message.Message):
    __slots__ = ("user_id", "blocked_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    blocked_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_id: _Optional[int] = ..., blocked_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ReplaceBlockListResponse(_message.Message):
    __slots__ = ("blocked_ids",)
    BLOCKED_IDS_FIELD_NUMBER: _ClassVar[int]
    blocked_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, blocked_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ReplaceMuteListRequest(_message.Message):
    __slots__ = ("user_id", "muted_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MUTED_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    muted_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_id: _Optional[int] = ..., muted_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ReplaceMuteListResponse(_message.Message):
    __slots__ = ("muted_ids",)
    MUTED_IDS_FIELD_NUMBER: _ClassVar[int]
    muted_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, muted_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ApprovePendingRequestsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class ApprovePendingRequestsResponse(_message.Message):
    __slots__ = ("approved_count",)
    APPROVED_COUNT_FIELD_NUMBER: _ClassVar[int]
    approved_count: int
    def __init__(self, approved_count: _Optional[int] = ...) -> None: ...

class ListFollowingIdsRequest(_message.Message):
    __slots__ = ("user_id", "cursor", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    cursor: str
    limit: int
    def __init__(self, user_id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListFollowingIdsResponse(_message.Message):
    __slots__ = ("following_ids", "next_cursor")
    FOLLOWING_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    following_ids: _containers.RepeatedScalarFieldContainer[int]
    next_cursor: str
    def __init__(self, following_ids: _Optional[_Iterable[int]] = ..., next_cursor: _Optional[str] = ...) -> None: ...
