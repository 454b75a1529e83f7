import datetime

from chirp.api.v1 import annotations_pb2 as _annotations_pb2
from chirp.graph.v1 import graph_pb2 as _graph_pb2
from chirp.tweet.v1 import tweet_pb2 as _tweet_pb2
from chirp.user.v1 import user_pb2 as _user_pb2
from google.api import annotations_pb2 as _annotations_pb2_1
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NewPoll(_message.Message):
    __slots__ = ("options", "duration_minutes")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    options: _containers.RepeatedScalarFieldContainer[str]
    duration_minutes: int
    def __init__(self, options: _Optional[_Iterable[str]] = ..., duration_minutes: _Optional[int] = ...) -> None: ...

class CreateTweetRequest(_message.Message):
    __slots__ = ("text", "media_urls", "poll", "reply_to_tweet_id", "location", "quote_tweet_id", "request_id")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URLS_FIELD_NUMBER: _ClassVar[int]
    POLL_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    text: str
    media_urls: _containers.RepeatedScalarFieldContainer[str]
    poll: NewPoll
    reply_to_tweet_id: int
    location: str
    quote_tweet_id: int
    request_id: str
    def __init__(self, text: _Optional[str] = ..., media_urls: _Optional[_Iterable[str]] = ..., poll: _Optional[_Union[NewPoll, _Mapping]] = ..., reply_to_tweet_id: _Optional[int] = ..., location: _Optional[str] = ..., quote_tweet_id: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateTweetResponse(_message.Message):
    __slots__ = ("tweet_id", "created_at", "tweet_data")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    TWEET_DATA_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    created_at: _timestamp_pb2.Timestamp
    tweet_data: _tweet_pb2.Tweet
    def __init__(self, tweet_id: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tweet_data: _Optional[_Union[_tweet_pb2.Tweet, _Mapping]] = ...) -> None: ...

class GetTweetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class DeleteTweetRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class DeleteTweetResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class CreateReplyRequest(_message.Message):
    __slots__ = ("id", "text", "media_urls", "poll", "location", "request_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_URLS_FIELD_NUMBER: _ClassVar[int]
    POLL_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    text: str
    media_urls: _containers.RepeatedScalarFieldContainer[str]
    poll: NewPoll
    location: str
    request_id: str
    def __init__(self, id: _Optional[int] = ..., text: _Optional[str] = ..., media_urls: _Optional[_Iterable[str]] = ..., poll: _Optional[_Union[NewPoll, _Mapping]] = ..., location: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateReplyResponse(_message.Message):
    __slots__ = ("tweet_id", "created_at", "tweet_data")
    TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    TWEET_DATA_FIELD_NUMBER: _ClassVar[int]
    tweet_id: int
    created_at: _timestamp_pb2.Timestamp
    tweet_data: _tweet_pb2.Tweet
    def __init__(self, tweet_id: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tweet_data: _Optional[_Union[_tweet_pb2.Tweet, _Mapping]] = ...) -> None: ...

class ListRepliesRequest(_message.Message):
    __slots__ = ("id", "cursor", "limit")
    ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    id: int
    cursor: str
    limit: int
    def __init__(self, id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRepliesResponse(_message.Message):
    __slots__ = ("replies", "next_cursor")
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    replies: _containers.RepeatedCompositeFieldContainer[_tweet_pb2.Tweet]
    next_cursor: str
    def __init__(self, replies: _Optional[_Iterable[_Union[_tweet_pb2.Tweet, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class VotePollRequest(_message.Message):
    __slots__ = ("id", "option_index")
    ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_INDEX_FIELD_NUMBER: _ClassVar[int]
    id: int
    option_index: int
    def __init__(self, id: _Optional[int] = ..., option_index: _Optional[int] = ...) -> None: ...

class BatchGetTweetsRequest(_message.Message):
    __slots__ = ("viewer_id", "ids", "include_accounts", "account_ids")
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    viewer_id: int
    ids: _containers.RepeatedScalarFieldContainer[int]
    include_accounts: bool
    account_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, viewer_id: _Optional[int] = ..., ids: _Optional[_Iterable[int]] = ..., include_accounts: _Optional[bool] = ..., account_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetTweetsResponse(_message.Message):
    __slots__ = ("tweets", "profiles", "relationships")
    class TweetsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _tweet_pb2.Tweet
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_tweet_pb2.Tweet, _Mapping]] = ...) -> None: ...
    class ProfilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _user_pb2.Profile
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ...) -> None: ...
    class RelationshipsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _graph_pb2.Relationship
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_graph_pb2.Relationship, _Mapping]] = ...) -> None: ...
    TWEETS_FIELD_NUMBER: _ClassVar[int]
    PROFILES_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    tweets: _containers.MessageMap[int, _tweet_pb2.Tweet]
    profiles: _containers.MessageMap[int, _user_pb2.Profile]
    relationships: _containers.MessageMap[int, _graph_pb2.Relationship]
    def __init__(self, tweets: _Optional[_Mapping[int, _tweet_pb2.Tweet]] = ..., profiles: _Optional[_Mapping[int, _user_pb2.Profile]] = ..., relationships: _Optional[_Mapping[int, _graph_pb2.Relationship]] = ...) -> None: ...

class ListUserTweetsRequest(_message.Message):
    __slots__ = ("user_id", "viewer_id", "since_id", "until_id", "cursor", "limit", "include_accounts")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_ID_FIELD_NUMBER: _ClassVar[int]
    UNTIL_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    viewer_id: int
    since_id: int
    until_id: int
    cursor: str
    limit: int
    include_accounts: bool
    def __init__(self, user_id: _Optional[int] = ..., viewer_id: _Optional[int] = ..., since_id: _Optional[int] = ..., until_id: _Optional[int] = ..., cursor: _Optional[str] = ..., limit: _Optional[int] = ..., include_accounts: _Optional[bool] = ...) -> None: ...

class ListUserTweetsResponse(_message.Message):
    __slots__ = ("tweets", "next_cursor", "profiles", "relationships")
    class ProfilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _user_pb2.Profile
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_user_pb2.Profile, _Mapping]] = ...) -> None: ...
    class RelationshipsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: _graph_pb2.Relationship
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[_graph_pb2.Relationship, _Mapping]] = ...) -> None: ...
    TWEETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    PROFILES_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    tweets: _containers.RepeatedCompositeFieldContainer[_tweet_pb2.Tweet]
    next_cursor: str
    profiles: _containers.MessageMap[int, _user_pb2.Profile]
    relationships: _containers.MessageMap[int, _graph_pb2.Relationship]
    def __init__(self, tweets: _Optional[_Iterable[_Union[_tweet_pb2.Tweet, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., profiles: _Optional[_Mapping[int, _user_pb2.Profile]] = ..., relationships: _Optional[_Mapping[int, _graph_pb2.Relationship]] = ...) -> None: ...

class ListRecentPopularTweetsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListRecentPopularTweetsResponse(_message.Message):
    __slots__ = ("tweets",)
    TWEETS_FIELD_NUMBER: _ClassVar[int]
    tweets: _containers.RepeatedCompositeFieldContainer[_tweet_pb2.Tweet]
    def __init__(self, tweets: _Optional[_Iterable[_Union[_tweet_pb2.Tweet, _Mapping]]] = ...) -> None: ...

class CreateQuoteRequest(_message.Message):
    __slots__ = ("author_id", "quote_tweet_id", "comment", "request_id")
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TWEET_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    author_id: int
    quote_tweet_id: int
    comment: str
    request_id: str
    def __init__(self, author_id: _Optional[int] = ..., quote_tweet_id: _Optional[int] = ..., comment: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class BatchGetTweetCountsRequest(_message.Message):
    __slots__ = ("user_ids",)
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, user_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class BatchGetTweetCountsResponse(_message.Message):
    __slots__ = ("tweet_counts",)
    class TweetCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    TWEET_COUNTS_FIELD_NUMBER: _ClassVar[int]
    tweet_counts: _containers.ScalarMap[int, int]
    def __init__(self, tweet_counts: _Optional[_Mapping[int, int]] = ...) -> None: ...
