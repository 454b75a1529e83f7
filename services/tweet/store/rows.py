"""How a tweet's composite parts are kept in a column, for every adapter: entities, media URLs and
poll options as compact JSON text (a text column in SQLite and in ScyllaDB alike)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from services.tweet.domain import Entities, Hashtag, Mention, Url


def dump_entities(entities: Entities) -> str:
    return json.dumps({
        "m": [[m.user_id, m.username, m.start, m.end] for m in entities.mentions],
        "h": [[h.tag, h.text, h.start, h.end] for h in entities.hashtags],
        "u": [[u.url, u.start, u.end] for u in entities.urls],
    }, separators=(",", ":"), ensure_ascii=False)


def load_entities(raw: str | None) -> Entities:
    data = json.loads(raw) if raw else {}
    return Entities(
        tuple(Mention(*m) for m in data.get("m", ())),
        tuple(Hashtag(*h) for h in data.get("h", ())),
        tuple(Url(*u) for u in data.get("u", ())),
    )


def dump_strings(values: Sequence[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"), ensure_ascii=False)


def load_strings(raw: str | None) -> tuple[str, ...]:
    return tuple(json.loads(raw)) if raw else ()
