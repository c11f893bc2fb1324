"""Read the Kinesis stream and land what was read in S3 (the original's consumer).

Event:
    {"stream_name": "...", "bucket": "...", "date": "2026-11-30", "name": "sample-s0", "seconds": 60,
     "prefix": "landing"}

Reads the stream's shard from its start (TRIM_HORIZON: the stream is created for the run) until the producer's
end-of-feed marker or ``seconds``, whichever comes first, and writes one JSON line per record, as read:
``{"sequence_number", "arrival", "partition_key", "data"}`` (``data`` the record's text; bytes that are no UTF-8
as ``data_base64``), to ``<prefix>/YYYY/MM/DD/<name>-HHMMSS.jsonl``. Landing objects of earlier runs with the
same ``name`` for the day are then removed: a rerun replaces its own landing and leaves other sources' files.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time

import boto3

POLL_SECONDS = 0.25  # below Kinesis's 5 GetRecords calls per second per shard


def landing_record(record: dict) -> dict:
    landed = {
        "sequence_number": record["SequenceNumber"],
        "arrival": record["ApproximateArrivalTimestamp"].astimezone(dt.UTC).isoformat(timespec="milliseconds"),
        "partition_key": record["PartitionKey"],
    }
    try:
        landed["data"] = record["Data"].decode("utf-8")
    except UnicodeDecodeError:
        landed["data_base64"] = base64.b64encode(record["Data"]).decode()
    return landed


def end_of_feed(record: dict) -> dict | None:
    """The producer's marker, or None."""
    if record.get("partition_key") != "end-of-feed" or "data" not in record:
        return None
    try:
        marker = json.loads(record["data"])
    except json.JSONDecodeError:
        return None
    return marker if isinstance(marker, dict) and marker.get("end_of_feed") else None


def read_stream(kinesis, stream_name: str, seconds: float) -> tuple[list[dict], dict | None]:
    """(records in order, the end-of-feed marker or None if ``seconds`` ran out first)."""
    deadline = time.monotonic() + seconds
    shards = kinesis.list_shards(StreamName=stream_name)["Shards"]
    if len(shards) != 1:
        raise ValueError(f"{stream_name} has {len(shards)} shards: the end-of-feed marker orders one shard only")
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict] = []
    while iterator and time.monotonic() < deadline:
        response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        for record in map(landing_record, response["Records"]):
            if (marker := end_of_feed(record)) is not None:
                return records, marker
            records.append(record)
        iterator = response.get("NextShardIterator")
        if not response["Records"]:
            time.sleep(POLL_SECONDS)
    return records, None


def handler(event, context=None):
    event = event or {}
    stream_name = event.get("stream_name") or os.environ["STREAM_NAME"]
    bucket = event.get("bucket") or os.environ["DATA_BUCKET"]
    prefix = (event.get("prefix") or os.environ.get("LANDING_PREFIX", "landing")).strip("/")
    name = event.get("name", "posts")
    day = dt.date.fromisoformat(str(event["date"])[:10])
    started = dt.datetime.now(dt.UTC)

    records, marker = read_stream(boto3.client("kinesis"), stream_name, float(event.get("seconds", 60)))

    s3 = boto3.client("s3")
    day_prefix = f"{prefix}/{day:%Y/%m/%d}/"
    key = f"{day_prefix}{name}-{started:%H%M%S}.jsonl" if records else None
    if key:
        body = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/x-ndjson")
    replaced = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{day_prefix}{name}-")
        for item in page.get("Contents", [])
        if item["Key"] != key
    ]
    for old_key in replaced:
        s3.delete_object(Bucket=bucket, Key=old_key)
    return {
        "bucket": bucket,
        "key": key,
        "landed": len(records),
        "end_of_feed": marker is not None,
        "producer": {k: v for k, v in (marker or {}).items() if k != "end_of_feed"},
        "replaced": replaced,
    }
