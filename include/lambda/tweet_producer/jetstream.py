"""Bluesky's Jetstream as a source of posts: a public websocket firehose (no account) of JSON events, of which
the created ``app.bsky.feed.post`` records are posts. Hashtags are the record's tag facets and outline tags;
languages its ``langs``; Jetstream counts no reposts (``repost_count`` None: no threshold applies).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post"
POST_COLLECTION = "app.bsky.feed.post"
TAG_FEATURE = "app.bsky.richtext.facet#tag"


def post_from_event(event: dict) -> dict | None:
    """The post a Jetstream event creates, or None for any other event (deletes, likes, identity, account)."""
    commit = event.get("commit") or {}
    if event.get("kind") != "commit" or commit.get("operation") != "create":
        return None
    if commit.get("collection") != POST_COLLECTION:
        return None
    record = commit.get("record") or {}
    tags = [
        feature.get("tag", "")
        for facet in record.get("facets") or []
        for feature in facet.get("features") or []
        if feature.get("$type") == TAG_FEATURE
    ]
    tags += [tag for tag in record.get("tags") or [] if isinstance(tag, str)]
    langs = record.get("langs") or []
    return {
        "created": record.get("createdAt"),
        "post_id": f"{event.get('did')}/{commit.get('rkey')}",
        "user_name": event.get("did"),
        "repost_count": None,
        "hashtags": list(dict.fromkeys(tag for tag in tags if tag)),
        "text": record.get("text", ""),
        "lang": langs[0] if langs else None,
    }


def jetstream_posts(url: str, seconds: float, open_timeout: float = 10) -> Iterator[dict]:
    """Posts created on the firehose for ``seconds`` from now (or until the server closes)."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    deadline = time.monotonic() + seconds
    with connect(url, open_timeout=open_timeout, max_size=2**22) as websocket:
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = websocket.recv(timeout=remaining)
            except TimeoutError:
                return
            except ConnectionClosed:
                return
            try:
                event = json.loads(frame)
            except (json.JSONDecodeError, TypeError):
                continue  # a frame that is no JSON event carries no post
            post = post_from_event(event) if isinstance(event, dict) else None
            if post is not None:
                yield post
