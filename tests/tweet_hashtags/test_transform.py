"""The staging transform, pure: cleaning, sentiment, hashtags, keys, quarantine and duplicates."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from tweet_transform import (
    clean_text,
    hash_id,
    normalised_hashtags,
    record_id,
    sentiment,
    stage_records,
)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("RT @nasa: Launch at 9am https://t.co/abc123 #Space", "Launch at 9am Space"),
        ("Fish &amp; chips &gt; pizza &quot;always&quot;", "Fish chips pizza always"),
        ("Loved it \U0001f525\U0001f525 \u2600\ufe0f so much!!!", "Loved it so much"),
        ("Ça va? très bien, merci", "Ça va très bien merci"),
        (
            "email me: someone@example.org or www.example.org/x?y=1",
            "email me someone example org or",
        ),  # an address is no mention
        ("ARTS and RTS stay; RT: goes", "ARTS and RTS stay goes"),
        ("under_score and 100% sure", "under score and 100 sure"),
    ],
)
def test_clean_text_drops_links_mentions_retweet_marks_entities_emoji_and_punctuation(text, cleaned):
    assert clean_text(text) == cleaned


def test_clean_text_leaves_no_character_outside_the_basic_multilingual_plane():
    assert all(ord(char) <= 0xFFFF for char in clean_text("a \U0001f600 b \U00010348 c \U0001f1fa\U0001f1f8"))


def test_sentiment_scores_polarity_and_subjectivity_with_textblobs_lexicon():
    positive, subjective = sentiment("What a wonderful goal")
    negative, _ = sentiment("The referee was terrible")
    assert positive > 0.5 and subjective > 0.5
    assert negative < -0.5
    assert sentiment("The train leaves at nine") == (0.0, 0.0)


def test_hashtags_are_normalised_once_each_and_empties_dropped():
    assert normalised_hashtags(["Python", "#python", "PYTHON", "", "#", "World-Cup", "café", None, 7]) == [
        "python",
        "worldcup",
        "café",
    ]


def test_hash_id_is_base64_of_sha1_of_record_post_and_hashtag():
    expected = base64.b64encode(hashlib.sha1(b"r1p1python").digest()).decode()
    assert hash_id("r1", "p1", "python") == expected
    assert len(expected) == 28
    assert hash_id("r1", "p1", "python") != hash_id("r1", "p1", "pythons")


def landed(data: str, sequence: int, arrival: str = "2026-11-30T10:00:00.000+00:00") -> str:
    return json.dumps({"sequence_number": str(sequence), "arrival": arrival, "partition_key": "k", "data": data})


def post(post_id: str, text: str = "Great day #Fun", hashtags=("Fun", "joy"), **extra) -> str:
    return json.dumps(
        {
            "created": "2026-11-30T09:59:00.000+00:00",
            "post_id": post_id,
            "user_name": "ada",
            "repost_count": 2,
            "hashtags": list(hashtags),
            "text": text,
            "lang": "en",
            **extra,
        }
    )


def test_a_post_explodes_to_one_row_per_hashtag_keyed_by_its_record():
    data = post("p1", "RT @bob: Great day &amp; sun https://x.co #Fun", ["Fun", "#fun", "Joy"])
    day = stage_records([("landing/a.jsonl", landed(data, 1))])

    assert [row["hashtag"] for row in day.rows] == ["fun", "joy"]
    rid = hashlib.sha1(data.encode()).hexdigest()
    assert [row["hash_id"] for row in day.rows] == [hash_id(rid, "p1", "fun"), hash_id(rid, "p1", "joy")]
    row = day.rows[0]
    assert (row["record_id"], row["text_clean"], row["created"], row["arrival"]) == (
        record_id(data),
        "Great day sun Fun",
        "2026-11-30 09:59:00.000",
        "2026-11-30 10:00:00.000",
    )
    assert row["polarity"] == sentiment("Great day sun Fun")[0] > 0
    assert day.counts() == {
        "read": 1,
        "staged_posts": 1,
        "hashtag_rows": 2,
        "hashtags": 2,
        "quarantined": 0,
        "duplicates": 0,
        "quarantine_reasons": {},
    }


def test_bad_records_are_quarantined_with_their_reason_and_the_rest_staged():
    lines = [
        ("landing/a.jsonl", landed(post("p1"), 1)),
        ("landing/a.jsonl", landed('{"post_id": "p2", "text": "broken', 2)),
        ("landing/a.jsonl", landed(post("p3", text="   "), 3)),
        ("landing/a.jsonl", landed(post("p4", hashtags=["#", ""]), 4)),
        ("landing/a.jsonl", landed("[1, 2]", 5)),
        ("landing/a.jsonl", landed(post("p6", created="yesterday"), 6)),
        ("landing/a.jsonl", landed(post("p7", repost_count=-1), 7)),
        (
            "landing/a.jsonl",
            json.dumps({"sequence_number": "8", "arrival": "2026-11-30T10:00:00+00:00", "data_base64": "//8="}),
        ),
        ("landing/a.jsonl", "not a landed line"),
        ("landing/a.jsonl", landed(json.dumps({"text": "no id #x", "hashtags": ["x"]}), 10)),
    ]
    day = stage_records(lines)

    assert [row["post_id"] for row in day.rows] == ["p1", "p1"]
    assert day.counts()["quarantine_reasons"] == {
        "created is not an ISO 8601 timestamp": 1,
        "landing line is not a landed record": 1,
        "post has no post_id": 1,
        "post has no text": 1,
        "post has no usable hashtag": 1,
        "record is not UTF-8 text": 1,
        "record is not a JSON object": 1,
        "record is not valid JSON": 1,
        "repost_count is not a count": 1,
    }
    assert day.read == 10 == day.staged_posts + len(day.quarantined) + day.duplicates
    assert all("record" in item or "line" in item for item in day.quarantined)


def test_a_post_delivered_again_is_staged_once_from_its_earliest_arrival():
    first = landed(post("p1", text="first copy #Fun"), 9, "2026-11-30T08:00:00.000Z")
    again = landed(post("p1", text="second copy #Fun"), 1, "2026-11-30T09:00:00.000+00:00")
    other = landed(post("p2"), 2, "2026-11-30T08:30:00.000+00:00")
    day = stage_records([("landing/b.jsonl", again), ("landing/b.jsonl", other), ("landing/a.jsonl", first)])

    assert {(row["post_id"], row["text"]) for row in day.rows} == {("p1", "first copy #Fun"), ("p2", "Great day #Fun")}
    assert (day.read, day.staged_posts, day.duplicates) == (3, 2, 1)
