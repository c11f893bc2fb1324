"""The tweet_hashtags DAG end to end on the local platform: a real Kinesis stream, the three Lambdas run by the
local Lambda runtime, Athena's statements on the local Athena. What it made is read back from S3 and compared with
what is computed here, independently, from the landed files."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
import pytest

from tests.helpers.airflow_runs import run_dag
from tests.helpers.alerts import drain_alerts
from tests.tweet_hashtags.conftest import DATA_BUCKET, object_keys, read_lines

pytestmark = pytest.mark.dag_run


@pytest.fixture(scope="module")
def provisioned(local_aws, stacks):
    return local_aws


@pytest.fixture
def platform(provisioned, airflow_settings):
    drain_alerts(provisioned)
    return provisioned


def run_day(day: date, **conf):
    return run_dag("tweet_hashtags", datetime(day.year, day.month, day.day, tzinfo=UTC), conf)


def assert_succeeded(result, local_aws):
    assert result.state == "success", (result.task_states, local_aws.log_tail())


def day_path(day: date) -> str:
    return f"year={day:%Y}/month={day:%m}/day={day:%d}/"


def landed_records(s3, day: date) -> list[dict]:
    return [json.loads(line) for key in object_keys(s3, f"landing/{day:%Y/%m/%d}/") for line in read_lines(s3, key)]


def expected_from_landing(records: list[dict]) -> dict:
    """What the day should hold, computed from the landed records without the staging code: the first arrival
    of each post that is a JSON object with text, its hashtags lower-cased once each."""
    first: dict[str, tuple[str, dict]] = {}
    duplicates = 0
    for record in sorted(records, key=lambda r: r["arrival"]):
        post = json.loads(record["data"])
        if post["post_id"] in first:
            duplicates += 1
        else:
            first[post["post_id"]] = (record["data"], post)
    keys, counts, users = set(), Counter(), defaultdict(set)
    for post_id, (data, post) in first.items():
        record_id = hashlib.sha1(data.encode()).hexdigest()
        for tag in {tag.lower() for tag in post["hashtags"]}:
            keys.add(base64.b64encode(hashlib.sha1(f"{record_id}{post_id}{tag}".encode()).digest()).decode())
            counts[tag] += 1
            users[tag].add(post["user_name"])
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {
        "posts": len(first),
        "duplicates": duplicates,
        "hash_ids": keys,
        "top": [(tag, posts, len(users[tag])) for tag, posts in top],
    }


def analytical_rows(s3, table: str, day: date) -> tuple[list[str], list[dict]]:
    """(the day's object keys, its rows) of an analytical table, read from its Parquet files."""
    keys = object_keys(s3, f"analytical/{table}/{day_path(day)}")
    rows = []
    for key in keys:
        rows += pq.read_table(io.BytesIO(s3.get_object(Bucket=DATA_BUCKET, Key=key)["Body"].read())).to_pylist()
    return keys, rows


def exported_report(s3, day: date) -> list[dict]:
    text = s3.get_object(Bucket=DATA_BUCKET, Key=f"exports/top_hashtags/dt={day}/top_hashtags.csv")["Body"].read()
    return list(csv.DictReader(io.StringIO(text.decode())))


def test_a_sample_day_is_landed_staged_loaded_and_reported_as_the_landed_files_say(platform):
    day = date(2026, 11, 30)
    result = run_day(day, posts=150, duplicates=12, seed=1)

    assert_succeeded(result, platform)
    s3 = platform.client("s3")
    [landing_key] = object_keys(s3, "landing/2026/11/30/")
    assert landing_key.startswith("landing/2026/11/30/sample-s1-") and landing_key.endswith(".jsonl")
    records = landed_records(s3, day)
    expected = expected_from_landing(records)
    landing = result.xcom("check_landing")
    assert landing["sent"] == landing["landed"] == len(records)
    assert landing["read"] == 162 and landing["read"] - sum(landing["filtered"].values()) == len(records)

    summary = result.xcom("summarize_run")
    assert expected["duplicates"] > 0
    assert (summary["staged"], summary["duplicates"], summary["quarantined"]) == (
        expected["posts"],
        expected["duplicates"],
        0,
    )
    assert summary["hashtag_rows"] == summary["loaded"] == len(expected["hash_ids"])

    _, rows = analytical_rows(s3, "hashtag_data", day)
    assert {row["hash_id"] for row in rows} == expected["hash_ids"] and len(rows) == len(expected["hash_ids"])
    assert all(-1 <= row["polarity"] <= 1 and "http" not in row["text_clean"] for row in rows)

    report = exported_report(s3, day)
    assert [(row["hashtag"], int(row["posts"]), int(row["users"])) for row in report] == expected["top"][:10]
    polarity = defaultdict(list)
    for row in rows:
        polarity[row["hashtag"]].append(row["polarity"])
    assert all(
        float(row["avg_polarity"]) == pytest.approx(sum(polarity[row["hashtag"]]) / len(polarity[row["hashtag"]]))
        for row in report
    )

    export = f"s3://{DATA_BUCKET}/exports/top_hashtags/dt={day}/top_hashtags"
    charts = [{"title": f"Top hashtags {day}", "png": f"{export}.png", "html": f"{export}.html"}]
    assert result.xcom("draw_chart") == charts
    png = s3.get_object(Bucket=DATA_BUCKET, Key=f"exports/top_hashtags/dt={day}/top_hashtags.png")["Body"].read()
    page = s3.get_object(Bucket=DATA_BUCKET, Key=f"exports/top_hashtags/dt={day}/top_hashtags.html")["Body"].read()
    assert png.startswith(b"\x89PNG") and base64.b64encode(png) in page

    assert "tweet-hashtags-20261130" not in platform.client("kinesis").list_streams()["StreamNames"]
    alerts = drain_alerts(platform)
    assert [(a["event"], a["task_id"]) for a in alerts] == [("success", "summarize_run")]
    assert alerts[0]["summary"] == summary and alerts[0]["charts"] == charts
    assert {item["service"] for item in alerts[0]["cost"]["items"]} == {"lambda", "athena"}


def test_rerun_of_a_day_leaves_the_tables_and_the_report_as_they_were(platform):
    day = date(2026, 11, 20)
    first = run_day(day, posts=60, duplicates=4, seed=2)
    assert_succeeded(first, platform)
    s3 = platform.client("s3")
    first_keys, first_rows = analytical_rows(s3, "hashtag_data", day)
    first_report = exported_report(s3, day)
    first_summary = first.xcom("summarize_run")  # a second run of the same date replaces the first's XComs

    second = run_day(day, posts=60, duplicates=4, seed=2)

    assert_succeeded(second, platform)
    second_keys, second_rows = analytical_rows(s3, "hashtag_data", day)
    assert sorted(second_rows, key=lambda row: row["hash_id"]) == sorted(first_rows, key=lambda row: row["hash_id"])
    assert exported_report(s3, day) == first_report
    assert second.xcom("summarize_run") == first_summary
    # The day's partition points at the second load; the first load's files are gone.
    assert set(first_keys).isdisjoint(second_keys) and {
        key.split("/load=")[1].split("/")[0] for key in second_keys
    } == {second.xcom("plan_load")["hashtag_data"].split("load=")[1].rstrip("/")}
    partitions = platform.client("glue").get_partitions(
        DatabaseName="tweet_hashtags_analytical",
        TableName="hashtag_data",
        Expression="year = '2026' AND month = '11' AND day = '20'",
    )
    assert [p["StorageDescriptor"]["Location"] for p in partitions["Partitions"]] == [
        second.xcom("plan_load")["hashtag_data"]
    ]
    log_lines = [
        line.split("\t") for key in object_keys(s3, "analytical/data_update_log/") for line in read_lines(s3, key)
    ]
    assert sorted(line[1] for line in log_lines if line[2] == "2026-11-20") == sorted([first.run_id, second.run_id])


def test_a_three_day_backfill_loads_each_day_into_its_own_partition(platform):
    days = [date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)]
    results = [run_day(day, posts=40, duplicates=2) for day in days]

    s3 = platform.client("s3")
    hash_ids = []
    for day, result in zip(days, results, strict=True):
        assert_succeeded(result, platform)
        expected = expected_from_landing(landed_records(s3, day))
        _, rows = analytical_rows(s3, "hashtag_data", day)
        assert {row["hash_id"] for row in rows} == expected["hash_ids"]
        assert {row["created"].date() for row in rows} == {day}
        assert [(r["hashtag"], int(r["posts"]), int(r["users"])) for r in exported_report(s3, day)] == expected["top"][
            :10
        ]
        hash_ids += [row["hash_id"] for row in rows]
    assert len(hash_ids) == len(set(hash_ids))
    assert [a["event"] for a in drain_alerts(platform)] == ["success"] * 3


def test_an_empty_day_ends_with_a_no_data_alert_not_a_failure(platform):
    day = date(2026, 11, 1)
    result = run_day(day, posts=0)

    assert_succeeded(result, platform)
    assert result.task_states["report_no_data"] == "success"
    assert result.task_states["create_staging_database"] == result.task_states["summarize_run"] == "skipped"
    assert object_keys(platform.client("s3"), "landing/2026/11/01/") == []
    alerts = drain_alerts(platform)
    assert [(a["event"], a["task_id"]) for a in alerts] == [("no_data", "report_no_data")]
    assert alerts[0]["summary"] == {"run_date": "2026-11-01", "read": 0, "landed": 0, "filtered": {}}


def test_a_poisoned_record_is_quarantined_with_its_reason_and_the_rest_load(platform):
    day = date(2026, 11, 2)
    good = [
        {
            "created": f"2026-11-02T10:0{i}:00Z",
            "post_id": f"replay-{i}",
            "user_name": f"user{i % 2}",
            "repost_count": i,
            "hashtags": ["Replay", "test"],
            "text": f"Replayed post {i} is great #Replay #test",
            "lang": "en",
        }
        for i in range(5)
    ]
    no_text = {**good[0], "post_id": "replay-no-text", "text": ""}
    lines = [json.dumps(post) for post in good] + ['{"post_id": "replay-broken", "text": "cut off', json.dumps(no_text)]
    platform.client("s3").put_object(
        Bucket=DATA_BUCKET, Key="replay/poisoned.jsonl", Body=("\n".join(lines) + "\n").encode()
    )

    result = run_day(day, source="replay", replay_uri=f"s3://{DATA_BUCKET}/replay/poisoned.jsonl")

    assert_succeeded(result, platform)
    summary = result.xcom("summarize_run")
    assert {
        key: summary[key] for key in ("landed", "staged", "quarantined", "duplicates", "hashtag_rows", "loaded")
    } == {"landed": 7, "staged": 5, "quarantined": 2, "duplicates": 0, "hashtag_rows": 10, "loaded": 10}
    assert summary["quarantine_reasons"] == {"post has no text": 1, "record is not valid JSON": 1}
    s3 = platform.client("s3")
    quarantined = [json.loads(line) for line in read_lines(s3, "quarantine/2026/11/02/quarantined.jsonl")]
    assert sorted((item["reason"], item["record"]["data"]) for item in quarantined) == sorted(
        [("post has no text", json.dumps(no_text)), ("record is not valid JSON", lines[5])]
    )
    _, rows = analytical_rows(s3, "hashtag_data", day)
    assert sorted({row["post_id"] for row in rows}) == [f"replay-{i}" for i in range(5)]
