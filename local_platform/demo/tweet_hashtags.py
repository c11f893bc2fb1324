"""Demo of tweet_hashtags: two scheduled days of the seeded sample feed streamed through the local Kinesis, staged
by the Lambda (TextBlob sentiment, one row per hashtag) and analysed on the local Athena.

Before the first day, a captured file of the original stream lands beside the feed's records with two broken
records (invalid JSON, a post without text): staging quarantines them with their reason and loads the rest. The
report shows each day's top hashtags and where the chart of the last day is.
"""

from __future__ import annotations

import csv
import io
import json

from local_platform.demo import DemoContext, DemoScenario, PipelineReport

DATES = ["2026-11-29", "2026-11-30"]
CAPTURED_KEY = "landing/2026/11/29/captured-000000.jsonl"


def captured_records() -> list[dict]:
    """Records as the consumer lands them: a captured post, invalid JSON, and a post whose text is empty."""
    post = {
        "created": "2026-11-29T08:15:00.000Z",
        "post_id": "captured-1",
        "user_name": "archive",
        "repost_count": 12,
        "hashtags": ["Python", "climate"],
        "text": "RT @ada: Wonderful talk &amp; demo #Python",
        "lang": "en",
    }
    data = [
        json.dumps(post),
        '{"post_id": "captured-2", "text": "cut',
        json.dumps({**post, "post_id": "captured-3", "text": ""}),
    ]
    return [
        {"sequence_number": str(n), "arrival": "2026-11-29T08:15:01.000Z", "partition_key": "captured", "data": text}
        for n, text in enumerate(data, start=1)
    ]


def prepare(ctx: DemoContext) -> None:
    body = "".join(json.dumps(record) + "\n" for record in captured_records())
    ctx.client("s3").put_object(
        Bucket=ctx.variables["tweet_hashtags"]["data_bucket"], Key=CAPTURED_KEY, Body=body.encode()
    )


def report(ctx: DemoContext) -> PipelineReport:
    bucket = ctx.variables["tweet_hashtags"]["data_bucket"]
    s3 = ctx.client("s3")
    outputs, loaded, quarantined = [], 0, 0
    for day in DATES:
        year, month, dom = day.split("-")
        staged = s3.list_objects_v2(Bucket=bucket, Prefix=f"staging/hashtag_rows/year={year}/month={month}/day={dom}/")
        rows = sum(
            len(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().splitlines())
            for item in staged.get("Contents", [])
        )
        loaded += rows
        quarantine = s3.list_objects_v2(Bucket=bucket, Prefix=f"quarantine/{year}/{month}/{dom}/")
        reasons = [
            json.loads(line)["reason"]
            for item in quarantine.get("Contents", [])
            for line in s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().splitlines()
        ]
        quarantined += len(reasons)
        export = f"exports/top_hashtags/dt={day}/top_hashtags"
        top = list(
            csv.DictReader(io.StringIO(s3.get_object(Bucket=bucket, Key=f"{export}.csv")["Body"].read().decode()))
        )[:3]
        outputs.append(f"{day}: {rows} hashtag rows, quarantined {len(reasons)} {sorted(set(reasons))}")
        outputs.append(
            f"{day} top hashtags: "
            + ", ".join(
                f"#{row['hashtag']} {row['posts']} posts, {row['users']} users, polarity {float(row['avg_polarity']):+.2f}"
                for row in top
            )
        )
        outputs.append(f"{day} chart: s3://{bucket}/{export}.png and s3://{bucket}/{export}.html")
    return PipelineReport(rows_loaded=loaded, rows_quarantined=quarantined, outputs=outputs)


SCENARIO = DemoScenario(dag_id="tweet_hashtags", dates=DATES, prepare=prepare, report=report)
