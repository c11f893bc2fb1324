"""Make the tweet_hashtags Lambdas importable by their module names, as the Lambda runtime imports them; helpers
that read what a run left in the local S3."""

from __future__ import annotations

import sys
from pathlib import Path

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "include" / "lambda"
for folder in ("tweet_producer", "tweet_consumer", "tweet_stage"):
    if str(LAMBDA_DIR / folder) not in sys.path:
        sys.path.insert(0, str(LAMBDA_DIR / folder))

DATA_BUCKET = "tweet-hashtags-data-local"


def object_keys(s3, prefix: str, bucket: str = DATA_BUCKET) -> list[str]:
    return sorted(
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    )


def read_lines(s3, key: str, bucket: str = DATA_BUCKET) -> list[str]:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
