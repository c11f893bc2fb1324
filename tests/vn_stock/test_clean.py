"""The Glue cleaning transforms with PySpark on the seed rows; expected values computed from the seed files."""

from __future__ import annotations

from datetime import date

import pytest
from vn_stock_parser import parse_history_table

from tests.vn_stock.conftest import SAVED_PAGES, expected_clean, read_seed

pytestmark = pytest.mark.spark


def raw_frame(spark, rows: list[dict[str, str]]):
    from vn_stock_clean import RAW_COLUMNS, RAW_SCHEMA

    return spark.createDataFrame([[row[column] for column in RAW_COLUMNS] for row in rows], RAW_SCHEMA)


def collect(df) -> list[dict]:
    return sorted((row.asDict() for row in df.collect()), key=lambda row: str(row.get("trading_date")))


def test_seed_rows_become_typed_rows_with_the_change_split(spark, seed_rows):
    from vn_stock_clean import clean

    good, rejected = clean(raw_frame(spark, seed_rows))

    assert collect(good) == [expected_clean(row) for row in seed_rows]
    assert rejected.count() == 0
    first = collect(good)[0]
    assert (first["trading_date"], first["change_value"], first["change_percent"]) == (date(2023, 11, 13), -1.61, -0.15)


def test_page_text_with_thousands_separators_cleans_to_the_seed_values(spark, seed_rows):
    from vn_stock_clean import clean

    scraped = parse_history_table((SAVED_PAGES / "history_13_to_15_nov_2023.html").read_text(encoding="utf-8"))
    assert scraped[0]["MACHED_VOLUME"] == "883,431,798"

    good, rejected = clean(raw_frame(spark, scraped))

    assert collect(good) == [expected_clean(row) for row in seed_rows[:3]]
    assert rejected.count() == 0


def test_no_results_row_of_the_seed_is_rejected_with_its_reason(spark):
    from vn_stock_clean import clean

    good, rejected = clean(raw_frame(spark, read_seed("20231007_no_results.csv")))

    assert good.count() == 0
    assert [row["reason"] for row in rejected.collect()] == ["no-results marker row"]


def test_bad_rows_are_rejected_with_the_first_broken_rule(spark, seed_rows):
    from vn_stock_clean import clean

    base = seed_rows[0]
    bad = [
        {**base, "RECORDED_DATE": "2023-11-13"},
        {**base, "RECORDED_DATE": "14/11/2023", "INDEX_CHANGE": "n/a"},
        {**base, "RECORDED_DATE": "15/11/2023", "MACHED_VOLUME": "12.5"},
        {**base, "RECORDED_DATE": "16/11/2023", "OPEN_PRICE": "-3"},
        {**base, "RECORDED_DATE": "17/11/2023", "HIGHEST_PRICE": "1000", "LOWEST_PRICE": "1001"},
        {**base, "RECORDED_DATE": "20/11/2023", "LOWEST_PRICE": None},
    ]
    good, rejected = clean(raw_frame(spark, bad + [base, base]))

    assert [row["trading_date"] for row in good.collect()] == [date(2023, 11, 13)]
    assert sorted(row["reason"] for row in rejected.collect()) == sorted(
        [
            "unparseable RECORDED_DATE: 2023-11-13",
            "unparseable INDEX_CHANGE: n/a",
            "unparseable MACHED_VOLUME: 12.5",
            "open_price not positive",
            "high_price below low_price",
            "unparseable LOWEST_PRICE: <empty>",
            "duplicate RECORDED_DATE",
        ]
    )


def test_report_counts_rows_dates_and_reasons(spark, seed_rows):
    from vn_stock_clean import checked, summarize

    rows = seed_rows[:2] + read_seed("20231007_no_results.csv") + [{**seed_rows[0], "CLOSE_PRICE": "n/a"}]

    assert summarize(checked(raw_frame(spark, rows)), "2023-11-13").as_dict() == {
        "run_date": "2023-11-13",
        "read": 4,
        "loaded": 2,
        "quarantined": 2,
        "duplicates": 0,
        "held_back": 0,
        "quarantine_reasons": {"no-results marker row": 1, "unparseable CLOSE_PRICE": 1},
        "trading_dates": ["2023-11-13", "2023-11-14"],
    }
