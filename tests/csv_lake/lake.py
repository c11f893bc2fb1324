"""Reading and writing the csv_lake buckets in tests."""

from __future__ import annotations

import io
import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

RAW = "csv-lake-raw-local"
PROCESSED = "csv-lake-processed-local"


def job_args(day: date, max_reject_rate: float = 0.05) -> list[str]:
    """The csv_lake job's arguments for one day, as the DAG passes them."""
    return [
        "csv_lake_to_parquet.py",
        "--run_date",
        str(day),
        "--raw_uri",
        f"s3://{RAW}/billing/dt={day}/",
        "--output_uri",
        f"s3://{PROCESSED}/billing/",
        "--quarantine_uri",
        f"s3://{PROCESSED}/quarantine/billing/dt={day}/",
        "--report_uri",
        f"s3://{PROCESSED}/reports/billing/dt={day}/report.json",
        "--max_reject_rate",
        str(max_reject_rate),
    ]


def put_raw(local_aws, day: date, name: str, body: bytes) -> str:
    key = f"billing/dt={day}/{name}"
    local_aws.client("s3").put_object(Bucket=RAW, Key=key, Body=body)
    return f"s3://{RAW}/{key}"


def delete_raw_days(local_aws, days) -> None:
    """Remove the raw files of these days: the session's DAG tests crawl the whole raw bucket, and the adversarial
    files (extra columns, non-UTF-8 bytes) would change the table they see."""
    s3 = local_aws.client("s3")
    for day in days:
        for key in keys(local_aws, RAW, f"billing/dt={day}/"):
            s3.delete_object(Bucket=RAW, Key=key)


def keys(local_aws, bucket: str, prefix: str) -> list[str]:
    listed = local_aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def read_text(local_aws, bucket: str, prefix: str, suffix: str) -> str:
    s3 = local_aws.client("s3")
    return b"".join(
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in keys(local_aws, bucket, prefix)
        if key.endswith(suffix)
    ).decode()


def read_report(local_aws, day: date) -> dict:
    return json.loads(read_text(local_aws, PROCESSED, f"reports/billing/dt={day}/report.json", ".json"))


def read_partition(local_aws, day: date) -> pa.Table:
    s3 = local_aws.client("s3")
    parts = [key for key in keys(local_aws, PROCESSED, f"billing/dt={day}/") if key.endswith(".parquet")]
    assert parts, f"no Parquet files in partition dt={day}"
    tables = [pq.read_table(io.BytesIO(s3.get_object(Bucket=PROCESSED, Key=key)["Body"].read())) for key in parts]
    return pa.concat_tables(tables)


def rows_without_ingestion_time(table: pa.Table) -> list[tuple]:
    return sorted(tuple(row.values()) for row in table.drop_columns(["ingested_at"]).to_pylist())
