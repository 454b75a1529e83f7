"""Events the tweet service consumes: chirp.user.deleted hides the deleted account's tweets."""

from __future__ import annotations

from chirp.user.v1 import events_pb2 as user_events_pb2
from services.runtime.events import Delivery
from services.runtime.logging import get_logger
from services.tweet.store.base import TweetStore

log = get_logger("chirp.tweet.consumers")

USER_DELETED_DURABLE = "tweet-user-deleted"
CHUNK = 500


class UserDeletedHandler:
    """Hides every tweet of a deleted account, in chunks (each one atomic) until none is left, so an
    account with millions of tweets never makes one giant transaction and a crash halfway resumes
    on redelivery. Idempotent: a redelivered event finds nothing left to hide. Publishes nothing:
    the contract has consumers act on chirp.user.deleted themselves rather than on an event per tweet.
    Reads hide such tweets already (the user service no longer answers for their author); this makes
    it durable in the tweet service's own data.
    """

    def __init__(self, store: TweetStore, *, chunk: int = CHUNK) -> None:
        self._store = store
        self._chunk = chunk

    async def forget(self, user_id: int) -> int:
        hidden = 0
        while done := await self._store.hide_author_tweets(user_id, self._chunk):
            hidden += done
        return hidden

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.decode(user_events_pb2.UserDeleted)
        assert isinstance(event, user_events_pb2.UserDeleted)
        hidden = await self.forget(event.user_id)
        log.info("deleted account's tweets hidden", user_id=event.user_id, tweets=hidden)
