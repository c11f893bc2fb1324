"""The S3 -> PostgreSQL merge load: pure validation alone, then the operator against real PostgreSQL and the
local S3 server."""

from __future__ import annotations

import pytest
from pipeline_kit.s3_to_postgres import (
    Column,
    ParseResult,
    RowValidator,
    S3ToPostgresMergeOperator,
    SourceFileMissing,
    SurrogateKey,
    TooManyRejects,
    as_columns,
    cast_value,
    copy_lines,
    load_lines,
)

from tests.retail.conftest import execute, query

COLUMNS = [("order_id", "integer", False), ("order_date", "date", False), ("shipped", "date"),
           ("amount", "numeric(12,2)"), ("note", "text")]
TABLE_DDL = """
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE staging.orders (order_id integer PRIMARY KEY, order_date date NOT NULL, shipped date,
                             amount numeric(12,2) CHECK (amount >= 0), note text);
"""
GOOD_CSV = (
    "order_id,order_date,shipped,amount,note\n"
    "1,2022-07-13,2022-07-14,139.50,first\n"
    "2,2021-04-06,,1092,\n"
    '3,2022-07-29,2022-07-31,2277,"with, comma"\n'
)
ROWS_SQL = "SELECT order_id, order_date::text, shipped::text, amount::text, note FROM staging.orders ORDER BY 1"


def put(local_aws, bucket: str, key: str, text: str) -> None:
    local_aws.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())


def load(bucket: str, key: str, logical_date: str = "2022-09-06", **kwargs) -> dict:
    operator = S3ToPostgresMergeOperator(
        task_id="load_orders", s3_bucket=bucket, s3_key=key, postgres_conn_id="load_target",
        table="staging.orders", columns=COLUMNS, key_columns=["order_id"], logical_date=logical_date, **kwargs)
    return operator.execute({})


@pytest.fixture
def target(load_connections) -> str:
    execute(load_connections, TABLE_DDL)
    return load_connections


# ---- pure functions ---------------------------------------------------------------------------------------

def test_cast_value_normalises_types_and_turns_empty_into_null():
    assert cast_value(" 42 ", Column("id", "integer")) == "42"
    assert cast_value("", Column("shipped", "date")) == r"\N"
    assert cast_value("2022-07-14", Column("shipped", "date")) == "2022-07-14"
    assert cast_value("13/11/2023", Column("day", "date", fmt="%d/%m/%Y")) == "2023-11-13"
    assert cast_value("1092.50", Column("amount", "numeric")) == "1092.50"
    assert cast_value("a\tb\\c", Column("note", "text")) == "a\\tb\\\\c"
    assert cast_value("TRUE", Column("flag", "boolean")) == "t"


@pytest.mark.parametrize(("text", "column", "reason"), [
    ("x1", Column("order_id", "integer"), "order_id: 'x1' is not an integer"),
    ("", Column("order_id", "integer", nullable=False), "order_id: missing value"),
    ("2022-02-30", Column("order_date", "date"), "order_date: '2022-02-30' is not a date (YYYY-MM-DD)"),
    ("99999999999", Column("order_id", "integer"), "order_id: 99999999999 out of range for integer"),
    ("NaN", Column("amount", "numeric"), "amount: 'NaN' is not a number"),
])
def test_cast_value_rejects_malformed_fields_with_reason(text, column, reason):
    with pytest.raises(ValueError) as error:
        cast_value(text, column)
    assert str(error.value) == reason


def test_validator_rejects_wrong_field_count_and_duplicate_keys():
    validator = RowValidator(["order_id", "order_date"], [Column("order_id", "integer"),
                                                          Column("order_date", "date")], ["order_id"])
    assert validator.validate(["1", "2022-01-01"], 2) == "1\t2022-01-01"
    with pytest.raises(ValueError, match="expected 2 fields, got 3"):
        validator.validate(["2", "2022-01-01", "extra"], 3)
    with pytest.raises(ValueError, match=r"duplicate key \('1',\) \(first on line 2\)"):
        validator.validate(["1", "2022-01-02"], 4)


def test_surrogate_key_is_deterministic_and_distinguishes_identical_rows():
    columns = [Column("review", "smallint"), Column("product_id", "integer")]
    text = ["review,product_id", "5,1", "5,1", "3,1"]

    def keys():
        result = ParseResult()
        return [line.rstrip("\n").split("\t")[-1]
                for line in copy_lines(text, columns, ["review_id"], SurrogateKey("review_id", ("product_id", "review")),
                                       result)]

    first, second = keys(), keys()
    assert first == second
    assert len(set(first)) == 3


def test_copy_lines_reports_line_numbers_and_raw_text_of_rejects():
    result = ParseResult()
    lines = list(copy_lines(["order_id,order_date", "1,2022-01-01", "", "oops,2022-01-02", "3,2022-01-03"],
                            [Column("order_id", "integer"), Column("order_date", "date")], ["order_id"], None,
                            result))
    assert lines == ["1\t2022-01-01\n", "3\t2022-01-03\n"]
    assert result.read == 3
    assert [(r.line_number, r.raw_line, r.reason) for r in result.rejects] == [
        (4, "oops,2022-01-02", "order_id: 'oops' is not an integer")]


def test_plain_and_quoted_or_padded_lines_give_the_same_values():
    columns = [Column("id", "integer", False), Column("day", "date"), Column("amount", "numeric"),
               Column("note", "text")]
    result = ParseResult()
    lines = list(copy_lines(["id,day,amount,note", "1,2022-01-01,5.5,hello world", '" 2 ","2022-01-01", 5.5 ,hello world ',
                             "3,,,", "4,2022-02-30,1,x"], columns, ["id"], None, result))

    assert lines == ["1\t2022-01-01\t5.5\thello world\n", "2\t2022-01-01\t5.5\thello world\n",
                     "3\t\\N\t\\N\t\\N\n"]
    assert [(r.line_number, r.reason) for r in result.rejects] == [
        (5, "day: '2022-02-30' is not a date (YYYY-MM-DD)")]


def test_quoted_field_spanning_lines_is_one_record():
    result = ParseResult()
    lines = list(copy_lines(["id,note", '1,"two', 'lines"', "2,x"], [Column("id", "integer"), Column("note", "text")],
                            ["id"], None, result))

    assert lines == ["1\ttwo\\nlines\n", "2\tx\n"]
    assert (result.read, result.rejects) == (2, [])


def test_missing_header_field_fails_the_whole_file():
    with pytest.raises(ValueError, match=r"lacks field\(s\) \['order_date'\]"):
        list(copy_lines(["order_id,date", "1,2022-01-01"], [Column("order_id", "integer"),
                                                            Column("order_date", "date")], [], None, ParseResult()))


# ---- the operator against PostgreSQL and S3 ---------------------------------------------------------------

def test_load_streams_csv_into_target_with_empty_dates_as_null(local_aws, bucket, target):
    put(local_aws, bucket, "retail/dt=2022-09-06/orders.csv", GOOD_CSV)

    counts = load(bucket, "retail/dt=2022-09-06/orders.csv")

    assert query(target, ROWS_SQL) == [
        (1, "2022-07-13", "2022-07-14", "139.50", "first"),
        (2, "2021-04-06", None, "1092.00", None),
        (3, "2022-07-29", "2022-07-31", "2277.00", "with, comma"),
    ]
    assert {k: counts[k] for k in ("read", "loaded", "rejected", "inserted", "updated")} == {
        "read": 3, "loaded": 3, "rejected": 0, "inserted": 3, "updated": 0}


def test_rerun_same_date_leaves_rows_unchanged(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "x,2022-01-01,,1,\n")
    load(bucket, "orders.csv")
    before = query(target, ROWS_SQL)

    counts = load(bucket, "orders.csv")

    assert query(target, ROWS_SQL) == before
    assert (counts["inserted"], counts["updated"], counts["rejected"]) == (0, 0, 1)
    assert query(target, "SELECT count(*) FROM staging.orders_rejects") == [(1,)]


def test_changed_source_row_is_updated_in_place(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV)
    load(bucket, "orders.csv")
    put(local_aws, bucket, "orders.csv", GOOD_CSV.replace("2021-04-06,,1092", "2021-04-06,2021-04-09,1092"))

    counts = load(bucket, "orders.csv", logical_date="2022-09-07")

    assert (counts["inserted"], counts["updated"]) == (0, 1)
    assert query(target, "SELECT shipped::text FROM staging.orders WHERE order_id = 2") == [("2021-04-09",)]


def test_malformed_rows_are_quarantined_with_reason_and_the_rest_loads(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "4,2022-13-01,,5,bad month\n" + "5,2022-01-01\n"
        + "6,2022-01-02,,7,fine\n")

    counts = load(bucket, "orders.csv")

    assert [row[0] for row in query(target, ROWS_SQL)] == [1, 2, 3, 6]
    assert query(target, "SELECT source_key, line_number, raw_line, reason, logical_date::text "
                         "FROM staging.orders_rejects ORDER BY line_number") == [
        (f"s3://{bucket}/orders.csv", 5, "4,2022-13-01,,5,bad month",
         "order_date: '2022-13-01' is not a date (YYYY-MM-DD)", "2022-09-06"),
        (f"s3://{bucket}/orders.csv", 6, "5,2022-01-01", "expected 5 fields, got 2", "2022-09-06"),
    ]
    assert (counts["read"], counts["loaded"], counts["rejected"]) == (6, 4, 2)


def test_reject_rate_above_limit_fails_and_keeps_target_but_records_rejects(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "x,2022-01-01,,1,\n")

    with pytest.raises(TooManyRejects, match=r"1 of 4 rows .* rejected \(25.0% > 10.0%\)"):
        load(bucket, "orders.csv", max_reject_rate="0.1")

    assert query(target, ROWS_SQL) == []
    assert query(target, "SELECT line_number FROM staging.orders_rejects") == [(5,)]


@pytest.mark.parametrize("content", ["", "order_id,order_date,shipped,amount,note\n"])
def test_empty_file_loads_nothing_and_keeps_existing_rows(local_aws, bucket, target, content):
    put(local_aws, bucket, "orders.csv", GOOD_CSV)
    load(bucket, "orders.csv")
    put(local_aws, bucket, "orders.csv", content)

    counts = load(bucket, "orders.csv", logical_date="2022-09-07")

    assert (counts["read"], counts["loaded"], counts["rejected"]) == (0, 0, 0)
    assert len(query(target, ROWS_SQL)) == 3


def test_empty_file_fails_when_told_to(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", "")
    with pytest.raises(Exception, match="has no data rows"):
        load(bucket, "orders.csv", fail_on_empty=True)


def test_missing_file_fails_with_clear_error(bucket, target):
    with pytest.raises(SourceFileMissing, match=rf"s3://{bucket}/retail/dt=2022-09-06/orders.csv does not exist"):
        load(bucket, "retail/dt=2022-09-06/orders.csv")


def test_failure_in_merge_leaves_target_and_quarantine_unchanged(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "x,2022-01-01,,1,\n")
    load(bucket, "orders.csv")
    before = query(target, ROWS_SQL)
    rejects_before = query(target, "SELECT * FROM staging.orders_rejects")
    # Valid as CSV, so it reaches the merge, where the CHECK (amount >= 0) constraint fails.
    put(local_aws, bucket, "orders.csv", GOOD_CSV.replace("first", "changed") + "7,2022-01-01,,-5,negative\n")

    with pytest.raises(Exception, match="violates check constraint"):
        load(bucket, "orders.csv")

    assert query(target, ROWS_SQL) == before
    assert query(target, "SELECT * FROM staging.orders_rejects") == rejects_before


def test_load_lines_copies_through_psycopg2_as_well(target):
    import psycopg2

    conn = psycopg2.connect(target)
    try:
        counts = load_lines(conn, GOOD_CSV.splitlines(), table="staging.orders", columns=as_columns(COLUMNS),
                            key_columns=["order_id"], source_key="local", logical_date="2022-09-06")
    finally:
        conn.close()

    assert counts["inserted"] == 3
    assert query(target, ROWS_SQL)[1] == (2, "2021-04-06", None, "1092.00", None)
