"""The producer, consumer and staging Lambdas as deployed by the stack, invoked on the local platform against a real
(local) Kinesis stream and S3: records in = records landed, and the staged day is what the landing holds."""

from __future__ import annotations

import json
import uuid

import pytest
from tweet_feed import filter_reason, sample_posts

from tests.tweet_hashtags.conftest import DATA_BUCKET, object_keys, read_lines


@pytest.fixture(scope="module")
def platform(local_aws, stacks):
    return local_aws


def invoke(platform, function: str, event: dict) -> dict:
    response = platform.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    return payload


@pytest.fixture
def stream(platform):
    kinesis = platform.client("kinesis")
    name = f"tweet-hashtags-test-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    yield name
    kinesis.delete_stream(StreamName=name)


def test_every_post_the_producer_sends_is_landed_by_the_consumer(platform, stream):
    date = "2026-10-01"
    produced = invoke(
        platform,
        "tweet_hashtags_producer",
        {"stream_name": stream, "source": "sample", "date": date, "seed": 5, "posts": 1200, "duplicates": 40},
    )
    consumed = invoke(
        platform,
        "tweet_hashtags_consumer",
        {"stream_name": stream, "bucket": DATA_BUCKET, "date": date, "name": "lambda-test", "seconds": 60},
    )

    kept = [post for post in sample_posts(date, 5, 1200, 40) if filter_reason(post) is None]
    assert produced["read"] == 1240 and produced["sent"] == len(kept)
    assert consumed["end_of_feed"] and consumed["landed"] == len(kept) and consumed["producer"]["sent"] == len(kept)
    s3 = platform.client("s3")
    lines = [json.loads(line) for line in read_lines(s3, consumed["key"])]
    assert [json.loads(line["data"])["post_id"] for line in lines] == [post["post_id"] for post in kept]
    assert [line["partition_key"] for line in lines] == [post["post_id"] for post in kept]
    sequence_numbers = [int(line["sequence_number"]) for line in lines]
    assert sequence_numbers == sorted(sequence_numbers) and len(set(sequence_numbers)) == len(lines)

    staged = invoke(platform, "tweet_hashtags_stage", {"date": date, "bucket": DATA_BUCKET})
    assert staged["landing_objects"] == [consumed["key"]]
    assert staged["read"] == len(kept) == staged["staged_posts"] + staged["duplicates"]
    assert staged["staged_posts"] == len({post["post_id"] for post in kept})
    rows = [json.loads(line) for line in read_lines(s3, staged["staged_key"])]
    assert (
        len(rows)
        == staged["hashtag_rows"]
        == sum(
            len({tag.lower() for tag in post["hashtags"]})
            for post in {p["post_id"]: p for p in reversed(kept)}.values()
        )
    )
    assert staged["staged_key"] == "staging/hashtag_rows/year=2026/month=10/day=01/part-00000.jsonl"


def test_a_rerun_of_the_consumer_replaces_its_own_landing_and_leaves_other_sources(platform, stream):
    date = "2026-10-02"
    s3 = platform.client("s3")
    other = "landing/2026/10/02/other-source-000000.jsonl"
    s3.put_object(Bucket=DATA_BUCKET, Key=other, Body=b"")
    invoke(platform, "tweet_hashtags_producer", {"stream_name": stream, "date": date, "posts": 30})
    landings = [
        invoke(
            platform,
            "tweet_hashtags_consumer",
            {"stream_name": stream, "bucket": DATA_BUCKET, "date": date, "name": "rerun", "seconds": 30},
        )
        for _ in range(2)
    ]

    assert landings[0]["landed"] == landings[1]["landed"] > 0
    assert object_keys(s3, "landing/2026/10/02/") == sorted([other, landings[1]["key"]])
