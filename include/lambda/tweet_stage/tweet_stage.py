"""Stage one day (the original's staging-transform Lambda): read every landing object of the day, transform
(``tweet_transform``), write the day's staging partition and its quarantine, return the counts.

Event: {"date": "2026-11-30", "bucket": "...", "landing_prefix": "landing", "staging_prefix": "staging/hashtag_rows",
        "quarantine_prefix": "quarantine"}

Output, JSON lines (quoted text cannot break a row, as the original's CSV did):
- ``<staging_prefix>/year=YYYY/month=MM/day=DD/part-00000.jsonl``, one row per hashtag;
- ``<quarantine_prefix>/YYYY/MM/DD/quarantined.jsonl``, each record with its reason.
A rerun replaces both: each is one object written whole (S3 replaces an object atomically), and any other
object under the day's prefixes is removed after it. A day with nothing landed removes the day's staging rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os

import boto3
from tweet_transform import stage_records

STAGED_NAME = "part-00000.jsonl"
QUARANTINE_NAME = "quarantined.jsonl"


def list_keys(s3, bucket: str, prefix: str) -> list[str]:
    return sorted(
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    )


def replace_objects(s3, bucket: str, prefix: str, name: str, lines: list[dict]) -> str | None:
    """``prefix + name`` holds ``lines`` (none: removed) and nothing else is left under ``prefix``."""
    key = prefix + name
    if lines:
        body = "".join(json.dumps(line, ensure_ascii=False, default=str) + "\n" for line in lines)
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/x-ndjson")
    for old in list_keys(s3, bucket, prefix):
        if old != key or not lines:
            s3.delete_object(Bucket=bucket, Key=old)
    return key if lines else None


def handler(event, context=None):
    event = event or {}
    bucket = event.get("bucket") or os.environ["DATA_BUCKET"]
    day = dt.date.fromisoformat(str(event["date"])[:10])
    landing = f"{event.get('landing_prefix', 'landing').strip('/')}/{day:%Y/%m/%d}/"
    staging = (
        f"{event.get('staging_prefix', 'staging/hashtag_rows').strip('/')}/year={day:%Y}/month={day:%m}/day={day:%d}/"
    )
    quarantine = f"{event.get('quarantine_prefix', 'quarantine').strip('/')}/{day:%Y/%m/%d}/"

    s3 = boto3.client("s3")
    landed_keys = list_keys(s3, bucket, landing)
    lines = []
    for key in landed_keys:
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8", "replace")
        lines += [(key, line) for line in text.splitlines() if line.strip()]
    staged = stage_records(lines)

    staged_key = replace_objects(s3, bucket, staging, STAGED_NAME, staged.rows)
    quarantine_key = replace_objects(s3, bucket, quarantine, QUARANTINE_NAME, staged.quarantined)
    return {
        "date": day.isoformat(),
        "bucket": bucket,
        "landing_objects": landed_keys,
        "staged_key": staged_key,
        "staging_location": f"s3://{bucket}/{staging}",
        "quarantine_key": quarantine_key,
        **staged.counts(),
    }
