"""Read posts from the source and put each one on the Kinesis stream as JSON (the original's producer).

Event:
    {"stream_name": "...", "source": "sample" | "replay" | "jetstream", "date": "2026-11-30", "seconds": 60,
     "seed": 0, "posts": 200, "duplicates": 10,           # sample
     "replay_uri": "s3://bucket/replay/posts.jsonl",      # replay
     "jetstream_url": "wss://...",                        # jetstream (default: Bluesky's public endpoint)
     "language": "en", "min_reposts": 0}                  # the original's filter

Each post goes on the stream as ``{created, post_id, user_name, repost_count, hashtags, text, lang}``, partition key
its ``post_id`` (stable: a post always lands on the same shard); a replayed line that is no JSON object goes as it
stands, for staging to quarantine. The producer stops when the source is exhausted or ``seconds`` have passed, and
last puts an end-of-feed marker ``{"end_of_feed": true, "sent": N, "read": ..., "filtered": {...}}``: the consumer
stops when it reads it, so that records in = records landed without guessing how long to read, and reports the
producer's counts (the DAG invokes the producer asynchronously, so its answer goes nowhere else).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator

import boto3
from tweet_feed import filter_reason, replay_lines, sample_posts

END_OF_FEED_KEY = "end-of-feed"
# PutRecords takes at most 500 records and 5 MiB per call.
BATCH_RECORDS = 500
BATCH_BYTES = 4 * 1024 * 1024
ATTEMPTS = 5


def source_posts(event: dict) -> Iterator[dict | str]:
    source = event.get("source", "sample")
    if source == "sample":
        yield from sample_posts(
            str(event["date"]), int(event.get("seed", 0)), int(event.get("posts", 200)), int(event.get("duplicates", 0))
        )
    elif source == "replay":
        bucket, _, key = str(event["replay_uri"]).removeprefix("s3://").partition("/")
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", "replace")
        yield from replay_lines(body.splitlines())
    elif source == "jetstream":
        from jetstream import DEFAULT_URL, jetstream_posts

        yield from jetstream_posts(event.get("jetstream_url") or DEFAULT_URL, float(event.get("seconds", 60)))
    else:
        raise ValueError(f"unknown source {source!r}: sample, replay or jetstream")


def stream_records(
    posts: Iterable[dict | str], language: str, min_reposts: int, filtered: Counter
) -> Iterator[tuple[bytes, str]]:
    """(data, partition key) for each post the filter keeps; what it drops is counted by reason."""
    fields = ("created", "post_id", "user_name", "repost_count", "hashtags", "text", "lang")
    for position, post in enumerate(posts):
        if isinstance(post, str):
            yield post.encode(), f"unparsed-{position}"
            continue
        if reason := filter_reason(post, language, min_reposts):
            filtered[reason] += 1
            continue
        record = {field: post.get(field) for field in fields}
        yield json.dumps(record, ensure_ascii=False).encode(), str(post.get("post_id") or f"no-id-{position}")


def put_batch(kinesis, stream_name: str, batch: list[tuple[bytes, str]]) -> None:
    """Put the batch; records Kinesis refuses (throttled) are put again with backoff, in their order."""
    pending = batch
    for attempt in range(ATTEMPTS):
        response = kinesis.put_records(
            StreamName=stream_name, Records=[{"Data": data, "PartitionKey": key} for data, key in pending]
        )
        if not response.get("FailedRecordCount"):
            return
        pending = [
            record for record, result in zip(pending, response["Records"], strict=True) if result.get("ErrorCode")
        ]
        time.sleep(0.2 * 2**attempt)
    raise RuntimeError(f"{len(pending)} records refused by {stream_name} after {ATTEMPTS} attempts")


def handler(event, context=None):
    event = event or {}
    stream_name = event.get("stream_name") or os.environ["STREAM_NAME"]
    seconds = float(event.get("seconds", 60))
    deadline = time.monotonic() + seconds
    kinesis = boto3.client("kinesis")
    filtered: Counter = Counter()
    read = sent = 0
    batch: list[tuple[bytes, str]] = []
    batch_bytes = 0

    def counted(posts):
        nonlocal read
        for post in posts:
            read += 1
            yield post

    records = stream_records(
        counted(source_posts(event)), event.get("language", "en"), int(event.get("min_reposts", 0)), filtered
    )
    for data, key in records:
        if len(batch) == BATCH_RECORDS or batch_bytes + len(data) > BATCH_BYTES:
            put_batch(kinesis, stream_name, batch)
            sent, batch, batch_bytes = sent + len(batch), [], 0
        batch.append((data, key))
        batch_bytes += len(data)
        if time.monotonic() > deadline:
            break
    if batch:
        put_batch(kinesis, stream_name, batch)
        sent += len(batch)
    summary = {"source": event.get("source", "sample"), "read": read, "sent": sent, "filtered": dict(filtered)}
    put_batch(kinesis, stream_name, [(json.dumps({"end_of_feed": True, **summary}).encode(), END_OF_FEED_KEY)])
    return {"stream_name": stream_name, **summary}
