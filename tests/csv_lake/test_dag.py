"""The csv_lake DAG end to end on the local platform: S3, real crawlers, the Glue job on real PySpark."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from local_platform.generators.billing_csv import generate, header_only
from tests.csv_lake.lake import (
    PROCESSED,
    keys,
    put_raw,
    read_partition,
    read_report,
    read_text,
    rows_without_ingestion_time,
)
from tests.helpers.airflow_runs import load_dag, run_dag
from tests.helpers.alerts import drain_alerts

pytestmark = pytest.mark.dag_run

DATABASE = "csv_lake_billing"
EXPECTED_SCHEMA = {
    "invoice_id": pa.string(),
    "invoice_date": pa.date32(),
    "customer_id": pa.string(),
    "customer_name": pa.string(),
    "product_code": pa.string(),
    "product_description": pa.string(),
    "category": pa.string(),
    "quantity_kg": pa.decimal128(12, 3),
    "unit_price": pa.decimal128(12, 2),
    "currency": pa.string(),
    "vat_rate": pa.decimal128(5, 3),
    "line_total": pa.decimal128(14, 2),
    "payment_status": pa.string(),
    "due_date": pa.date32(),
    "source_file": pa.string(),
    "ingested_at": pa.timestamp("us", tz="UTC"),
}


@pytest.fixture
def platform(provisioned, airflow_settings):
    drain_alerts(provisioned)
    return provisioned


def run_day(day: date):
    return run_dag("csv_lake", datetime(day.year, day.month, day.day, tzinfo=UTC))


def partition_values(local_aws) -> list[list[str]]:
    partitions = local_aws.client("glue").get_partitions(DatabaseName=DATABASE, TableName="billing")["Partitions"]
    return sorted(partition["Values"] for partition in partitions)


def test_a_day_of_csv_files_becomes_a_catalogued_parquet_partition(platform):
    day = date(2024, 3, 1)
    clean = generate(rows=120, seed=1, day=day)
    messy = generate(rows=80, seed=2, day=day, duplicates=5, messy_headers=True)
    first = put_raw(platform, day, "billing_clean.csv", clean.encode())
    put_raw(platform, day, "billing_export.csv", messy.encode())

    result = run_day(date(2024, 3, 1))

    assert result.state == "success", result.task_states
    assert result.task_states["report_empty_delivery"] == "skipped"
    table = read_partition(platform, day)
    assert {field.name: field.type for field in table.schema} == EXPECTED_SCHEMA
    assert table.num_rows == 120 + 75
    assert table.column("invoice_id").to_pylist().count("INV-20240301-0000001") == 2  # one from each file
    assert first in set(table.column("source_file").to_pylist())
    assert all(key.endswith(".snappy.parquet") for key in keys(platform, PROCESSED, f"billing/dt={day}/"))

    glue = platform.client("glue")
    catalogued = glue.get_table(DatabaseName=DATABASE, Name="billing")["Table"]
    assert [key["Name"] for key in catalogued["PartitionKeys"]] == ["dt"]
    assert {column["Name"] for column in catalogued["StorageDescriptor"]["Columns"]} == set(EXPECTED_SCHEMA)
    assert ["2024-03-01"] in partition_values(platform)
    assert glue.get_table(DatabaseName=DATABASE, Name="raw_billing")["Table"]["PartitionKeys"][0]["Name"] == "dt"

    alerts = drain_alerts(platform)
    assert [alert["event"] for alert in alerts] == ["success"]
    summary = alerts[0]["summary"]
    assert (summary["read"], summary["loaded"], summary["quarantined"], summary["duplicates"]) == (200, 195, 0, 5)


def test_rerun_changes_nothing_and_a_new_day_adds_a_partition(platform):
    day, next_day = date(2024, 4, 1), date(2024, 4, 2)
    put_raw(platform, day, "billing.csv", generate(rows=50, seed=3, day=day).encode())
    put_raw(platform, next_day, "billing.csv", generate(rows=40, seed=4, day=next_day).encode())

    assert run_day(date(2024, 4, 1)).state == "success"
    before = rows_without_ingestion_time(read_partition(platform, day))
    files_before = keys(platform, PROCESSED, f"billing/dt={day}/")
    assert run_day(date(2024, 4, 1)).state == "success"

    assert rows_without_ingestion_time(read_partition(platform, day)) == before
    assert len(keys(platform, PROCESSED, f"billing/dt={day}/")) == len(files_before)
    partitions = partition_values(platform)
    assert ["2024-04-02"] not in partitions

    assert run_day(date(2024, 4, 2)).state == "success"
    assert {"2024-04-01", "2024-04-02"} <= {values[0] for values in partition_values(platform)}
    assert len(partition_values(platform)) == len(partitions) + 1
    assert read_partition(platform, next_day).num_rows == 40
    assert rows_without_ingestion_time(read_partition(platform, day)) == before


def test_bad_rows_are_quarantined_with_their_reason_and_counted_in_the_alert(platform):
    day = date(2024, 5, 1)
    generated = generate(rows=200, seed=5, day=day, bad_rows=4, duplicates=3)
    put_raw(platform, day, "billing.csv", generated.encode())

    result = run_day(date(2024, 5, 1))

    assert result.state == "success", result.task_states
    assert read_partition(platform, day).num_rows == generated.good_rows == 193
    lines = read_text(platform, PROCESSED, f"quarantine/billing/dt={day}/", ".csv")
    assert "quantity_kg: cannot cast 'n/a' to decimal(12,3)" in lines
    assert "unit_price: cannot cast '12,50' to decimal(12,2)" in lines
    assert "invoice_date: cannot cast '31/05/2023' to date" in lines
    assert "vat_rate: cannot cast '20%' to decimal(5,3)" in lines
    report = read_report(platform, day)
    assert (report["read"], report["loaded"], report["quarantined"], report["duplicates"]) == (200, 193, 4, 3)
    assert sum(report["quarantine_reasons"].values()) == 4
    alerts = drain_alerts(platform)
    assert [alert["event"] for alert in alerts] == ["success"]
    assert alerts[0]["summary"]["quarantined"] == 4
    assert alerts[0]["summary"]["reject_rate"] == pytest.approx(4 / 197, abs=1e-6)


def test_header_only_and_empty_files_write_no_partition_and_alert_empty(platform):
    day = date(2024, 6, 1)
    put_raw(platform, day, "billing_header_only.csv", header_only(messy_headers=True).encode())
    put_raw(platform, day, "billing_empty.csv", b"")

    result = run_day(date(2024, 6, 1))

    assert result.state == "success", result.task_states
    assert result.task_states["report_empty_delivery"] == "success"
    assert result.task_states["crawl_processed"] == "skipped"
    assert keys(platform, PROCESSED, f"billing/dt={day}/") == []
    alerts = drain_alerts(platform)
    assert [(alert["subject"], alert["event"]) for alert in alerts] == [("[NO_DATA] csv_lake", "no_data")]
    assert (alerts[0]["summary"]["read"], alerts[0]["summary"]["loaded"]) == (0, 0)


def test_rerun_with_only_empty_files_removes_the_days_partition_from_s3_and_the_catalog(platform):
    day = date(2024, 7, 1)
    put_raw(platform, day, "billing.csv", generate(rows=50, seed=7, day=day).encode())
    assert run_day(day).state == "success"
    assert [str(day)] in partition_values(platform)

    put_raw(platform, day, "billing.csv", header_only().encode())  # the source re-delivered the day empty
    result = run_day(day)

    assert result.state == "success", result.task_states
    assert keys(platform, PROCESSED, f"billing/dt={day}/") == []
    assert [str(day)] not in partition_values(platform)
    alerts = drain_alerts(platform)
    assert alerts[-1]["event"] == "no_data" and alerts[-1]["summary"]["catalog_partition_removed"] is True


def test_reject_rate_above_the_maximum_fails_the_run_alerts_and_publishes_nothing(platform):
    day = date(2024, 8, 1)
    put_raw(platform, day, "billing.csv", generate(rows=50, seed=12, day=day, bad_rows=10).encode())
    dag = load_dag("csv_lake")
    for task in dag.tasks:
        task.retries = 0  # the failure path without minutes of retry back-off

    dag_run = dag.test(logical_date=datetime(2024, 8, 1, tzinfo=UTC))

    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "failed"
    assert states["convert_to_parquet"] == "failed"
    assert keys(platform, PROCESSED, f"billing/dt={day}/") == []
    report = read_report(platform, day)
    assert (report["status"], report["quarantined"], report["reject_rate"]) == ("rejected", 10, 0.2)
    alerts = drain_alerts(platform)
    assert [(alert["event"], alert["task_id"]) for alert in alerts] == [("failure", "convert_to_parquet")]
