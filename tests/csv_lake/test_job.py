"""The csv_lake Glue job's entry point, in-process against the local S3 (as the local Glue runner runs it)."""

from __future__ import annotations

import csv
import io
from datetime import date

import csv_lake_to_parquet
import glue_io
import pytest

from local_platform.generators.billing_csv import generate
from tests.csv_lake.lake import PROCESSED, job_args, keys, put_raw, read_partition, read_report, read_text

pytestmark = pytest.mark.spark


@pytest.fixture
def job_env(provisioned, spark, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", provisioned.endpoint)
    yield provisioned
    glue_io.cleanup()


def test_reject_rate_above_the_maximum_fails_the_job_and_keeps_the_last_good_partition(job_env):
    day = date(2024, 7, 1)
    put_raw(job_env, day, "billing.csv", generate(rows=60, seed=8, day=day).encode())
    assert csv_lake_to_parquet.main(job_args(day))["loaded"] == 60

    put_raw(job_env, day, "billing.csv", generate(rows=50, seed=9, day=day, bad_rows=10).encode())
    with pytest.raises(glue_io.DataError, match=r"reject rate 20\.00% is above the maximum 5\.00%"):
        csv_lake_to_parquet.main(job_args(day))

    assert read_partition(job_env, day).num_rows == 60
    report = read_report(job_env, day)
    assert (report["status"], report["loaded"], report["quarantined"], report["held_back"]) == ("rejected", 0, 10, 40)
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
    assert csv_lake_to_parquet.main(job_args(day))["loaded"] == 40

    assert keys(job_env, PROCESSED, f"quarantine/billing/dt={day}/") == []
    assert read_partition(job_env, day).num_rows == 40
    assert keys(job_env, PROCESSED, f"billing/dt={other_day}/") == other_files


def test_a_quoted_line_break_is_one_record_and_a_record_with_surplus_fields_is_quarantined(job_env):
    day = date(2024, 7, 4)
    generated = generate(rows=20, seed=12, day=day).text.splitlines()
    header, rows = generated[0], generated[1:]
    fields = next(csv.reader([rows[3]]))
    fields[5] = 'Beef rib,\nfor the "big" roast'  # product_description spans two lines, with a comma and quotes
    rows[3] = ",".join(f'"{field.replace(chr(34), chr(34) * 2)}"' for field in fields)
    rows.append(rows[0].replace(rows[0].split(",")[0], "INV-SURPLUS") + ",surplus")
    put_raw(job_env, day, "billing.csv", ("\n".join([header, *rows]) + "\n").encode())

    result = csv_lake_to_parquet.main(job_args(day))

    assert (result["read"], result["loaded"], result["quarantined"]) == (21, 20, 1)
    descriptions = read_partition(job_env, day).column("product_description").to_pylist()
    assert 'Beef rib,\nfor the "big" roast' in descriptions
    quarantined = list(
        csv.DictReader(io.StringIO(read_text(job_env, PROCESSED, f"quarantine/billing/dt={day}/", ".csv")))
    )
    assert [(row["invoice_id"], row["reason"]) for row in quarantined if row["invoice_id"] != "invoice_id"] == [
        ("INV-SURPLUS", "more fields than the header")
    ]  # a header per file
    # Tallied by first reason while the quarantine is written; that column is not written.
    assert result["quarantine_reasons"] == {"more fields than the header": 1}
    assert "first_reason" not in quarantined[0]


def test_a_header_without_a_required_column_fails_with_a_data_error_and_keeps_the_partition(job_env):
    day = date(2024, 7, 5)
    put_raw(job_env, day, "billing.csv", generate(rows=10, seed=13, day=day).encode())
    csv_lake_to_parquet.main(job_args(day))
    lines = generate(rows=10, seed=14, day=day).text.splitlines()
    without_price = [",".join(field for index, field in enumerate(line.split(",")) if index != 8) for line in lines]
    put_raw(job_env, day, "billing.csv", ("\n".join(without_price) + "\n").encode())

    with pytest.raises(glue_io.DataError, match=r"lacks required column\(s\) \['unit_price'\]"):
        csv_lake_to_parquet.main(job_args(day))

    assert read_partition(job_env, day).num_rows == 10


def test_an_empty_file_beside_a_header_only_one_is_a_day_without_data(job_env):
    day = date(2024, 7, 6)
    put_raw(job_env, day, "empty.csv", b"")
    put_raw(job_env, day, "header_only.csv", generate(rows=0, seed=15, day=day).encode())

    result = csv_lake_to_parquet.main(job_args(day))

    assert (result["status"], result["read"], result["loaded"]) == ("empty", 0, 0)
