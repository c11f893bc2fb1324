"""The producer's sources: the sample feed is a pure function of (date, seed), replay keeps what it cannot parse,
the filter is the original's, and the Jetstream adapter reads posts from a websocket server on 127.0.0.1 that
replays recorded frames."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from jetstream import jetstream_posts, post_from_event
from tweet_feed import filter_reason, replay_lines, sample_posts

FRAMES = Path(__file__).resolve().parent / "jetstream_frames.jsonl"


def test_the_sample_feed_is_the_same_for_the_same_date_and_seed_in_another_process():
    import subprocess
    import sys

    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from tweet_feed import sample_posts; "
        "print(json.dumps(sample_posts('2026-11-30', 3, 50, 5)))"
    )
    folder = Path(__file__).resolve().parents[2] / "include" / "lambda" / "tweet_producer"
    other = json.loads(
        subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True).stdout
    )
    assert other == sample_posts("2026-11-30", 3, 50, 5)
    assert sample_posts("2026-11-30", 4, 50, 5) != other
    assert sample_posts("2026-12-01", 3, 50, 5) != other


def test_the_sample_feed_has_realistic_posts_and_the_duplicates_asked_for():
    posts = sample_posts("2026-11-30", 0, 400, 25)

    assert len(posts) == 425 and len({post["post_id"] for post in posts}) == 400
    assert all(post["created"].startswith("2026-11-30T") and post["hashtags"] for post in posts)
    assert all(f"#{tag}" in post["text"] for post in posts for tag in post["hashtags"])
    languages = Counter(post["lang"] for post in posts)
    assert set(languages) == {"en", "es", "fr"} and languages["en"] > 250
    assert any(post["text"].startswith("RT @") for post in posts)
    assert any("https://t.co/" in post["text"] for post in posts)
    assert any("&amp;" in post["text"] for post in posts)
    assert max(post["repost_count"] for post in posts) > 5 and min(post["repost_count"] for post in posts) == 0
    assert sample_posts("2026-11-30", 0, 0, 5) == []


def test_the_filter_keeps_english_posts_with_hashtags_above_the_repost_threshold():
    post = {"lang": "en", "hashtags": ["x"], "repost_count": 3, "text": "t"}
    assert filter_reason(post) is None
    assert filter_reason({**post, "lang": "fr"}) == "language"
    assert filter_reason({**post, "lang": "fr"}, language="") is None
    assert filter_reason({**post, "hashtags": []}) == "no_hashtags"
    assert filter_reason(post, min_reposts=4) == "reposts_below_threshold"
    assert filter_reason({**post, "repost_count": None}, min_reposts=4) is None  # the source counts none


def test_replay_yields_posts_and_keeps_lines_that_are_no_json_object_as_they_stand():
    lines = [json.dumps({"post_id": "1", "text": "a #b", "hashtags": ["b"]}), "", "{broken", "[1]"]
    assert list(replay_lines(lines)) == [{"post_id": "1", "text": "a #b", "hashtags": ["b"]}, "{broken", "[1]"]


def test_a_jetstream_event_is_a_post_only_when_it_creates_a_post():
    frames = [json.loads(line) for line in FRAMES.read_text().splitlines()]
    posts = [post for post in map(post_from_event, frames) if post]

    assert len(frames) == 8 and len(posts) == 5
    first = posts[0]
    assert first == {
        "created": "2026-11-30T12:00:01.120Z",
        "post_id": "did:plc:alice111/3lbwaaaaaa2a",
        "user_name": "did:plc:alice111",
        "repost_count": None,
        "hashtags": ["python", "Release"],
        "text": "Shipped the release today #python",
        "lang": "en",
    }
    assert [filter_reason(post) for post in posts] == [None, "language", "no_hashtags", None, None]


@pytest.fixture
def replaying_server():
    """A websocket server on 127.0.0.1 sending the recorded frames to each client, then closing."""
    from websockets.sync.server import serve

    frames = FRAMES.read_text().splitlines()

    def replay(websocket):
        assert "wantedCollections=app.bsky.feed.post" in websocket.request.path
        for frame in frames:
            websocket.send(frame)
        websocket.send("not json")  # a frame that is no event is skipped

    with serve(replay, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        host, port = server.socket.getsockname()[:2]
        yield f"ws://{host}:{port}/subscribe?wantedCollections=app.bsky.feed.post"
        server.shutdown()
    thread.join(timeout=5)


def test_jetstream_posts_are_read_from_the_websocket_until_it_closes(replaying_server):
    posts = list(jetstream_posts(replaying_server, seconds=20))
    assert [post["post_id"].rsplit("/", 1)[1] for post in posts] == [
        "3lbwaaaaaa2a",
        "3lbwbbbbbb2b",
        "3lbwcccccc2c",
        "3lbwdddddd2d",
        "3lbweeeeee2e",
    ]
