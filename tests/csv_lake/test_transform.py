"""The csv_lake job's pure transforms on small frames with real PySpark."""

from __future__ import annotations

import contextlib
import io
import re
from datetime import datetime
from decimal import Decimal

import glue_io
import pytest
from csv_lake_to_parquet import (
    BILLING_SCHEMA,
    REASON,
    count_rows,
    drop_exact_duplicates,
    empty_file,
    good_rows,
    normalise_headers,
    prepare_file,
    report,
    report_counts,
    snake_case,
    split_good_and_quarantine,
    transform,
)
from pyspark.sql import Observation

from local_platform.generators.billing_csv import COLUMNS, MESSY_HEADERS, generate

pytestmark = pytest.mark.spark
INGESTED_AT = datetime(2024, 3, 1, 6, 0, 0)


def text_frame(spark, header, rows):
    return (
        spark.createDataFrame([list(row) for row in rows], schema=[str(name) for name in header])
        if rows
        else spark.createDataFrame([], schema=", ".join(f"`{name}` string" for name in header))
    )


def csv_frame(spark, tmp_path, text, name="billing.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return spark.read.csv(str(path), header=True)


def test_spreadsheet_headers_normalise_to_the_declared_snake_case_names():
    assert [snake_case(header) for header in MESSY_HEADERS] == list(COLUMNS)


def test_a_header_without_a_required_column_is_a_data_error(spark):
    import glue_io

    df = text_frame(spark, ["Invoice ID", "Notes"], [("INV-1", "x")])
    with pytest.raises(glue_io.DataError, match=r"a.csv: header .* lacks required column\(s\) \['invoice_date'"):
        prepare_file(df, "s3://raw/a.csv")


def test_headers_that_collide_after_normalising_are_refused(spark):
    df = text_frame(spark, ["Invoice ID", "invoice_id"], [("a", "b")])
    with pytest.raises(ValueError, match="invoice_id"):
        normalise_headers(df)


def test_columns_are_matched_by_name_whatever_their_order_and_unknown_ones_dropped(spark):
    df = text_frame(
        spark,
        ["Unit Price", "Invoice ID", "Notes", "Quantity (kg)", "Product Code", "CustomerID", "Invoice Date"],
        [(" 4.50 ", "INV-1", "call first", "2", "BEEF-RIB-01", "C1", "2024-03-01")],
    )
    prepared = prepare_file(df, "s3://raw/billing/dt=2024-03-01/a.csv")
    row = prepared.collect()[0]
    assert prepared.columns == [name for name, _, _ in BILLING_SCHEMA] + ["structure_error", "source_file"]
    assert (row.invoice_id, row.unit_price, row.customer_id, row.currency) == ("INV-1", "4.50", "C1", None)
    assert row.source_file == "s3://raw/billing/dt=2024-03-01/a.csv"


def test_exact_duplicates_across_files_keep_one_row_from_the_first_file(spark):
    line = [
        "INV-1",
        "2024-03-01",
        "C1",
        "Pub",
        "BEEF-RIB-01",
        "Beef",
        "beef",
        "1.000",
        "20.00",
        "GBP",
        "0.000",
        "20.00",
        "paid",
        "2024-03-31",
    ]
    other = line[:7] + ["2.000"] + line[8:]
    second = prepare_file(text_frame(spark, COLUMNS, [line, other]), "s3://raw/b.csv")
    first = prepare_file(text_frame(spark, COLUMNS, [line, line]), "s3://raw/a.csv")
    distinct = drop_exact_duplicates(second.unionByName(first), ["s3://raw/b.csv", "s3://raw/a.csv"])
    rows = sorted((row.quantity_kg, row.source_file, row.copies) for row in distinct.collect())
    assert rows == [("1.000", "s3://raw/a.csv", 3), ("2.000", "s3://raw/b.csv", 1)]


def physical_plan(frame, mode: str = "simple") -> str:
    """What ``frame.explain(mode)`` prints, every expression whole."""
    spark, plan = frame.sparkSession, io.StringIO()
    spark.conf.set("spark.sql.debug.maxToStringFields", "1000")
    try:
        with contextlib.redirect_stdout(plan):
            frame.explain(mode)
    finally:
        spark.conf.unset("spark.sql.debug.maxToStringFields")
    return plan.getvalue()


def test_duplicates_are_grouped_by_hashing_without_sorting_every_row(spark):
    files = {name: prepare_file(text_frame(spark, COLUMNS, []), name) for name in ("s3://raw/b.csv", "s3://raw/a.csv")}
    plan = physical_plan(transform(files, INGESTED_AT))
    assert "HashAggregate" in plan and "Sort" not in plan


def test_each_value_is_cast_once_for_the_good_rows_and_their_checks(spark, tmp_path):
    files = {"s3://raw/a.csv": prepare_file(csv_frame(spark, tmp_path, generate(rows=1).text), "s3://raw/a.csv")}
    # as stage_good_rows plans them: the report's counts observed over every row, then the good rows kept
    good = good_rows(transform(files, INGESTED_AT).drop(REASON).observe(Observation(), *report_counts()))
    plan = physical_plan(good, "formatted")
    for name, sql_type, _ in BILLING_SCHEMA:
        if sql_type != "string":
            assert len(re.findall(rf"cast\({name}#\d+ as ", plan)) == 1, (name, plan)


def test_values_that_do_not_cast_are_quarantined_with_their_reason_and_raw_value(spark, tmp_path):
    generated = generate(rows=30, seed=3, bad_rows=6, duplicates=4, messy_headers=True)
    prepared = prepare_file(csv_frame(spark, tmp_path, generated.text), "s3://raw/billing.csv")
    cast = transform({"s3://raw/billing.csv": prepared}, INGESTED_AT)
    good, rejected = split_good_and_quarantine(cast)

    assert count_rows(cast) == (
        30,
        26,
        6,
        {
            "quantity_kg: cannot cast to decimal(12,3)": 1,
            "unit_price: cannot cast to decimal(12,2)": 1,
            "invoice_date: cannot cast to date": 1,
            "vat_rate: cannot cast to decimal(5,3)": 1,
            "line_total: cannot cast to decimal(14,2)": 1,
            "invoice_id: required value missing": 1,
        },
    )
    assert good.count() == generated.good_rows == 20
    reasons = sorted(row.reason for row in rejected.collect())
    assert reasons == sorted(
        [
            "quantity_kg: cannot cast 'n/a' to decimal(12,3)",
            "unit_price: cannot cast '12,50' to decimal(12,2)",
            "invoice_date: cannot cast '31/05/2023' to date",
            "vat_rate: cannot cast '20%' to decimal(5,3)",
            "line_total: cannot cast '£45.00' to decimal(14,2)",
            "invoice_id: required value missing",
        ]
    )
    assert {row.quantity_kg for row in rejected.collect()} >= {"n/a"}  # kept as it arrived


def test_good_rows_carry_declared_types_and_ingestion_metadata(spark):
    line = [
        "INV-7",
        "2024-03-01",
        "C1",
        "Pub",
        "PORK-BEL-01",
        "Pork belly",
        "pork",
        "2.5",
        "8.95",
        "GBP",
        "0",
        "22.38",
        "unpaid",
        "2024-03-31",
    ]
    prepared = prepare_file(text_frame(spark, COLUMNS, [line]), "s3://raw/a.csv")
    cast = transform({"s3://raw/a.csv": prepared}, INGESTED_AT)
    good, _ = split_good_and_quarantine(cast)
    types = dict(good.dtypes)
    assert types["invoice_date"] == "date" and types["quantity_kg"] == "decimal(12,3)"
    assert types["ingested_at"] == "timestamp"
    row = good.collect()[0]
    assert (row.quantity_kg, row.unit_price, row.ingested_at) == (Decimal("2.500"), Decimal("8.95"), INGESTED_AT)
    assert row.source_file == "s3://raw/a.csv"
    assert not {"reason", "first_reason", "copies"} & set(good.columns)


def test_header_only_and_empty_files_give_zero_rows(spark, tmp_path):
    empty = empty_file(spark)
    header = prepare_file(csv_frame(spark, tmp_path, ",".join(COLUMNS) + "\n", "header.csv"), "s3://raw/h.csv")
    assert count_rows(transform({"": empty, "s3://raw/h.csv": header}, INGESTED_AT)) == (0, 0, 0, {})
    assert report(0, 0, 0, {}, 0.05, "2024-03-01", []).details["status"] == "empty"


def test_report_fails_the_day_only_above_the_maximum_reject_rate():
    reasons = {"unit_price: cannot cast to decimal(12,2)": 5}
    assert report(
        read=110,
        distinct=100,
        quarantined=5,
        quarantine_reasons=reasons,
        max_reject_rate=0.05,
        run_date="2024-03-01",
        files=[],
    ).as_dict() == {
        "run_date": "2024-03-01",
        "status": "loaded",
        "files": [],
        "read": 110,
        "loaded": 95,
        "quarantined": 5,
        "duplicates": 10,
        "held_back": 0,
        "quarantine_reasons": reasons,
        "reject_rate": 0.05,
        "max_reject_rate": 0.05,
    }
    rejected = report(
        read=100,
        distinct=100,
        quarantined=6,
        quarantine_reasons={"invoice_id: required value missing": 6},
        max_reject_rate=0.05,
        run_date="2024-03-01",
        files=[],
    )
    assert (rejected.details["status"], rejected.loaded, rejected.held_back) == ("rejected", 0, 94)


def test_a_report_that_does_not_add_up_is_refused():
    with pytest.raises(ValueError, match="does not add up"):
        glue_io.JobReport(run_date="2024-03-01", read=10, loaded=9, quarantined=0, duplicates=0, quarantine_reasons={})
    with pytest.raises(ValueError, match="do not sum to 1"):
        glue_io.JobReport(run_date="2024-03-01", read=10, loaded=9, quarantined=1, duplicates=0, quarantine_reasons={})
    with pytest.raises(ValueError):
        glue_io.JobReport(run_date="01/03/2024", read=0, loaded=0, quarantined=0, duplicates=0, quarantine_reasons={})
