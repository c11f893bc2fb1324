"""The csv_lake DAG on the adversarial files whose run outcome differs from an ordinary day: a drop with too many bad
rows fails the run at once with the cause in the alert and the day's published partition byte-identical; a day of
files without a data row is a "no data" run with its own alert."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.csv_lake.lake import PROCESSED, RAW, delete_raw_days, keys, put_raw, read_report
from tests.csv_lake.test_adversarial_files import CASES_DIR, partition_checksum, run_job
from tests.helpers.airflow_runs import run_dag
from tests.helpers.alerts import drain_alerts

pytestmark = pytest.mark.dag_run


DAYS = (date(2025, 2, 3), date(2025, 2, 4))


@pytest.fixture
def platform(provisioned, airflow_settings, spark):
    drain_alerts(provisioned)
    yield provisioned
    delete_raw_days(provisioned, DAYS)


def run_day(day: date):
    return run_dag("csv_lake", datetime(day.year, day.month, day.day, tzinfo=UTC))


def test_a_drop_with_too_many_bad_rows_fails_at_once_says_why_and_keeps_the_published_partition(platform):
    day = DAYS[0]
    put_raw(platform, day, "baseline.csv", (CASES_DIR / "baseline.csv").read_bytes())
    assert run_job(platform, day)["loaded"] == 2  # the day's first drop, published
    before = partition_checksum(platform, day)
    put_raw(platform, day, "malformed_rows.csv", (CASES_DIR / "malformed_rows.csv").read_bytes())

    result = run_day(day)

    assert result.state == "failed", result.task_states
    assert result.task_states["convert_to_parquet"] == "failed"
    assert partition_checksum(platform, day) == before
    report = read_report(platform, day)
    assert (report["read"], report["loaded"], report["quarantined"], report["held_back"]) == (7, 0, 3, 4)
    alerts = drain_alerts(platform)
    assert [(alert["event"], alert["task_id"]) for alert in alerts] == [("failure", "convert_to_parquet")]
    assert (
        f"reject rate 42.86% is above the maximum 5.00%: 3 of 7 rows quarantined to "
        f"s3://{PROCESSED}/quarantine/billing/dt={day}/; partition s3://{PROCESSED}/billing/dt={day}/ "
        "left unchanged"
    ) in alerts[0]["error"]


def test_a_day_of_empty_and_header_only_files_is_a_no_data_run(platform):
    day = DAYS[1]
    put_raw(platform, day, "empty.csv", (CASES_DIR / "empty.csv").read_bytes())
    put_raw(platform, day, "header_only.csv", (CASES_DIR / "header_only.csv").read_bytes())

    result = run_day(day)

    assert result.state == "success", result.task_states
    assert result.task_states["report_empty_delivery"] == "success"
    assert keys(platform, PROCESSED, f"billing/dt={day}/") == []
    alerts = drain_alerts(platform)
    assert [(alert["subject"], alert["event"]) for alert in alerts] == [("[NO_DATA] csv_lake", "no_data")]
    summary = alerts[0]["summary"]
    assert (summary["read"], summary["loaded"]) == (0, 0)
    assert sorted(summary["files"]) == sorted(
        f"s3://{RAW}/billing/dt={day}/{name}" for name in ("empty.csv", "header_only.csv")
    )
