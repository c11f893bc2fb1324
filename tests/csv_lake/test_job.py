"""The csv_lake Glue job's entry point, in-process against the local S3 (as the local Glue runner runs it)."""

from __future__ import annotations

from datetime import date

import csv_lake_to_parquet
import glue_io
import pytest

from local_platform.generators.billing_csv import generate
from tests.csv_lake.lake import PROCESSED, RAW, keys, put_raw, read_partition, read_report, read_text

pytestmark = pytest.mark.spark


def job_args(day: date, max_reject_rate: float = 0.05) -> list[str]:
    return ["csv_lake_to_parquet.py",
            "--dt", str(day),
            "--raw_uri", f"s3://{RAW}/billing/dt={day}/",
            "--output_uri", f"s3://{PROCESSED}/billing/",
            "--quarantine_uri", f"s3://{PROCESSED}/quarantine/billing/dt={day}/",
            "--report_uri", f"s3://{PROCESSED}/reports/billing/dt={day}/report.json",
            "--max_reject_rate", str(max_reject_rate)]


@pytest.fixture
def job_env(provisioned, spark, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", provisioned.endpoint)
    yield provisioned
    glue_io.cleanup()


def test_reject_rate_above_the_maximum_fails_the_job_and_keeps_the_last_good_partition(job_env):
    day = date(2024, 7, 1)
    put_raw(job_env, day, "billing.csv", generate(rows=60, seed=8, day=day).encode())
    assert csv_lake_to_parquet.main(job_args(day))["written"] == 60

    put_raw(job_env, day, "billing.csv", generate(rows=50, seed=9, day=day, bad_rows=10).encode())
    with pytest.raises(RuntimeError, match=r"reject rate 20\.00% is above the maximum 5\.00%"):
        csv_lake_to_parquet.main(job_args(day))

    assert read_partition(job_env, day).num_rows == 60
    report = read_report(job_env, day)
    assert (report["status"], report["written"], report["quarantined"]) == ("rejected", 0, 10)
    quarantined = read_text(job_env, PROCESSED, f"quarantine/billing/dt={day}/", ".csv").splitlines()
    assert len([line for line in quarantined if not line.startswith("invoice_id,")]) == 10  # a header per file


def test_rerun_with_clean_files_clears_the_days_quarantine_and_leaves_other_days_alone(job_env):
    day, other_day = date(2024, 7, 2), date(2024, 7, 3)
    put_raw(job_env, other_day, "billing.csv", generate(rows=30, seed=10, day=other_day).encode())
    csv_lake_to_parquet.main(job_args(other_day))
    other_files = keys(job_env, PROCESSED, f"billing/dt={other_day}/")

    put_raw(job_env, day, "billing.csv", generate(rows=40, seed=11, day=day, bad_rows=1).encode())
    assert csv_lake_to_parquet.main(job_args(day))["quarantined"] == 1
    put_raw(job_env, day, "billing.csv", generate(rows=40, seed=11, day=day).encode())
    assert csv_lake_to_parquet.main(job_args(day))["written"] == 40

    assert keys(job_env, PROCESSED, f"quarantine/billing/dt={day}/") == []
    assert read_partition(job_env, day).num_rows == 40
    assert keys(job_env, PROCESSED, f"billing/dt={other_day}/") == other_files
