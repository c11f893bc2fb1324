"""The S3 -> PostgreSQL merge load: the CSV structure pass alone, then the load against real PostgreSQL and the
local S3 server. Every case checks rows read = loaded + quarantined."""

from __future__ import annotations

import pytest
from pipeline_kit.s3_to_postgres import (
    BadHeader,
    Column,
    S3ToPostgresMergeOperator,
    SourceFileMissing,
    SurrogateKey,
    Target,
    TooManyRejects,
    as_columns,
    load_csv,
)
from pipeline_kit.s3_to_postgres.records import Layout, OffShape, Structure, copy_records

from tests.retail_analytics.conftest import execute, query

COLUMNS = [
    ("order_id", "integer", False),
    ("order_date", "date", False),
    ("shipped", "date"),
    ("amount", "numeric(12,2)"),
    ("note", "text"),
]
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
REJECTS_SQL = "SELECT line_number, raw_line, reason FROM staging.orders_rejects ORDER BY line_number"


def put(local_aws, bucket: str, key: str, text: str | bytes) -> None:
    local_aws.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode() if isinstance(text, str) else text)


def load(bucket: str, key: str, logical_date: str = "2022-09-06", **kwargs) -> dict:
    operator = S3ToPostgresMergeOperator(
        task_id="load_orders",
        s3_bucket=bucket,
        s3_key=key,
        postgres_conn_id="load_target",
        table="staging.orders",
        key_columns=["order_id"],
        logical_date=logical_date,
        **{"columns": COLUMNS, **kwargs},
    )
    counts = operator.execute({})
    assert counts["read"] == counts["loaded"] + counts["quarantined"], counts
    assert counts["loaded"] == counts["inserted"] + counts["updated"] + counts["unchanged"], counts
    return counts


@pytest.fixture
def target(load_connections) -> str:
    execute(load_connections, TABLE_DDL)
    return load_connections


# ---- the structure pass (pure) ----------------------------------------------------------------------------


def structure_of(text: str | bytes, width: int = 2, typed: tuple[int, ...] = (0,)):
    structure = Structure()
    data = text.encode() if isinstance(text, str) else text
    fields = [Column(f"f{i}", "integer" if i in typed else "text") for i in range(width)]
    lines = list(copy_records([data[:7], data[7:]], lambda header: Layout(fields), structure))
    return lines, structure


def test_plain_lines_pass_unchanged_with_their_line_numbers():
    lines, structure = structure_of("id,day\r\n1,2022-01-01\r\n\r\n2,2022-01-02\n")

    assert lines == ["2,,1,2022-01-01\n", "4,,2,2022-01-02\n"]
    assert (structure.header, structure.read, structure.blank_lines, structure.rejects) == (["id", "day"], 2, 1, [])


def test_a_byte_order_mark_is_not_part_of_the_first_name():
    _, structure = structure_of("\ufeffid,day\n1,2022-01-01\n")
    assert structure.header == ["id", "day"]


def test_quoted_field_spanning_lines_is_one_record_and_later_numbers_stay_right():
    lines, structure = structure_of('id,note\n1,"two\r\nlines"\n2,x\n', typed=(0,))

    assert lines == ['2,"1,""two\r\nlines""","1","two\r\nlines"\n', "4,,2,x\n"]
    assert (structure.read, structure.rejects) == (2, [])


def test_wrong_field_counts_and_nul_bytes_are_rejected_with_raw_text():
    lines, structure = structure_of('id,day\n1,2022-01-01,extra\n"2"\n3,a\x00b\n4,ok\n')

    assert lines == ["5,,4,ok\n"]
    assert [(r.line_number, r.raw_line, r.reason) for r in structure.rejects] == [
        (2, "1,2022-01-01,extra", "expected 2 fields, got 3"),
        (3, '"2"', "expected 2 fields, got 1"),
        (4, "3,a\x00b", "contains a NUL byte"),
    ]


def test_an_unbalanced_quote_rejects_its_line_only():
    lines, structure = structure_of('id,note\n1,"open\n2,x\n3,y\n', typed=(0,))

    assert lines == ["3,,2,x\n", "4,,3,y\n"]
    assert [(r.line_number, r.reason) for r in structure.rejects] == [(2, "unbalanced quotes")]
    assert structure.read == 3


def test_a_line_that_is_not_utf8_is_rejected_and_the_others_pass():
    lines, structure = structure_of(b"id,name\n1,caf\xe9\n2,ok\n", typed=(0,))

    assert lines == ["3,,2,ok\n"]
    assert [(r.line_number, r.raw_line, r.reason) for r in structure.rejects] == [(2, "1,caf\\xe9", "not valid UTF-8")]


def test_a_line_break_inside_a_typed_field_is_rejected_not_trimmed():
    lines, structure = structure_of('id,note\n"7\n",changed\n8,"line\nbreak in text is fine"\n', typed=(0,))

    assert [line.split(",", 1)[0] for line in lines] == ["4"]
    assert [(r.line_number, r.reason) for r in structure.rejects] == [(2, "id: contains a line break or tab ('7\\n')")]


def typed_lines(text: str, suffix: str = "") -> tuple[list[str], Structure]:
    structure = Structure()
    fields = [Column("id", "integer", False), Column("day", "date"), Column("amount", "numeric"), None]
    layout = Layout(fields, typed_form=True, suffix=suffix)
    data = text.encode()
    return list(copy_records([data[:9], data[9:]], lambda header: layout, structure)), structure


def test_typed_form_passes_records_as_they_are_with_the_suffix_and_sets_wrong_field_counts_aside():
    lines, structure = typed_lines(
        'id,day,amount,note\n1,2022-01-01,2.5,x\n2,,,\n3,2022-01-03\n"4", 2022-01-04 ,-1e3,"a, b"\n', ',"d"'
    )

    assert "".join(lines) == '1,2022-01-01,2.5,x,"d"\n2,,,,"d"\n"4"," 2022-01-04 ","-1e3","a, b","d"\n'
    assert [(r.line_number, r.reason) for r in structure.rejects] == [(4, "expected 4 fields, got 2")]


@pytest.mark.parametrize(
    "record",
    ["x,2022/01/05,1,", "1,20220105,1,", "1, 022-01-05,1,", "1,2022-01-05,Infinity,", ",2022-01-05,1,", '"",,,'],
)
def test_typed_form_stops_at_a_field_off_its_shape(record):
    with pytest.raises(OffShape):
        typed_lines(f"id,day,amount,note\n1,2022-01-01,2.5,x\n{record}\n")


def test_typed_form_never_passes_a_line_that_would_end_copy():
    structure = Structure()
    layout = Layout([Column("note", "text")], typed_form=True)

    with pytest.raises(OffShape):
        list(copy_records([b"note\nfirst\n\\.\nlast\n"], lambda header: layout, structure))


# ---- the load against PostgreSQL and S3 -------------------------------------------------------------------


def test_load_streams_csv_into_target_with_empty_dates_as_null(local_aws, bucket, target):
    put(local_aws, bucket, "retail/dt=2022-09-06/orders.csv", GOOD_CSV)

    counts = load(bucket, "retail/dt=2022-09-06/orders.csv")

    assert query(target, ROWS_SQL) == [
        (1, "2022-07-13", "2022-07-14", "139.50", "first"),
        (2, "2021-04-06", None, "1092.00", None),
        (3, "2022-07-29", "2022-07-31", "2277.00", "with, comma"),
    ]
    assert {k: counts[k] for k in ("read", "loaded", "quarantined", "inserted", "updated", "unchanged", "path")} == {
        "read": 3,
        "loaded": 3,
        "quarantined": 0,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "path": "typed",
    }


def test_rerun_same_date_leaves_rows_unchanged(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "x,2022-01-01,,1,\n")
    load(bucket, "orders.csv")
    before = query(target, ROWS_SQL)

    counts = load(bucket, "orders.csv")

    assert query(target, ROWS_SQL) == before
    assert (counts["inserted"], counts["updated"], counts["unchanged"], counts["quarantined"]) == (0, 0, 3, 1)
    assert counts["path"] == "checked"  # "x" is no order_id
    assert query(target, "SELECT count(*) FROM staging.orders_rejects") == [(1,)]


def test_changed_source_row_is_an_update_counted_as_such(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV)
    load(bucket, "orders.csv")
    put(local_aws, bucket, "orders.csv", GOOD_CSV.replace("2021-04-06,,1092", "2021-04-06,2021-04-09,1092"))

    counts = load(bucket, "orders.csv", logical_date="2022-09-07")

    assert (counts["inserted"], counts["updated"], counts["unchanged"], counts["path"]) == (0, 1, 2, "typed")
    assert query(target, "SELECT shipped::text FROM staging.orders WHERE order_id = 2") == [("2021-04-09",)]


def test_malformed_rows_are_quarantined_with_every_reason_and_the_rest_loads(local_aws, bucket, target):
    put(
        local_aws,
        bucket,
        "orders.csv",
        GOOD_CSV
        + "4,2022-13-01,,5,bad month\n"
        + "5,2022-01-01\n"
        + "6,2022-01-02,,7,fine\n"
        + "7,01/02/2022,,NaN,two problems\n"
        + "99999999999,,2022-02-30,1,\n",
    )

    counts = load(bucket, "orders.csv")

    assert [row[0] for row in query(target, ROWS_SQL)] == [1, 2, 3, 6]
    assert query(target, REJECTS_SQL) == [
        (5, "4,2022-13-01,,5,bad month", "order_date: impossible date ('2022-13-01')"),
        (6, "5,2022-01-01", "expected 5 fields, got 2"),
        (
            8,
            "7,01/02/2022,,NaN,two problems",
            "order_date: not a date YYYY-MM-DD ('01/02/2022'); amount: not a number ('NaN')",
        ),
        (
            9,
            "99999999999,,2022-02-30,1,",
            "order_id: out of range for integer ('99999999999'); "
            "order_date: missing value; shipped: impossible date ('2022-02-30')",
        ),
    ]
    assert query(target, "SELECT DISTINCT source_key, logical_date::text FROM staging.orders_rejects") == [
        (f"s3://{bucket}/orders.csv", "2022-09-06")
    ]
    assert (counts["read"], counts["loaded"], counts["quarantined"]) == (8, 4, 4)
    assert counts["quarantine_reasons"] == {  # problems by kind; a row may have several
        "order_date: impossible date": 1,
        "expected 5 fields, got 2": 1,
        "order_date: not a date YYYY-MM-DD": 1,
        "amount: not a number": 1,
        "order_id: out of range for integer": 1,
        "order_date: missing value": 1,
        "shipped: impossible date": 1,
    }


@pytest.mark.parametrize("target_holds_rows", [False, True], ids=["into an empty target", "into a stage"])
def test_values_postgresql_would_read_leniently_are_quarantined_not_loaded(
    local_aws, bucket, target, target_holds_rows
):
    if target_holds_rows:
        put(local_aws, bucket, "orders.csv", GOOD_CSV)
        load(bucket, "orders.csv")
    put(
        local_aws,
        bucket,
        "orders.csv",
        GOOD_CSV + "4,2022/01/05,,1,\n5,20220105,,1,\n6, 022-01-05,,1,\n7,2022-01-05,,Infinity,\n8,2022-01-05,,inf,\n",
    )

    counts = load(bucket, "orders.csv")

    assert [row[0] for row in query(target, ROWS_SQL)] == [1, 2, 3]
    assert [row[2] for row in query(target, REJECTS_SQL)] == [
        "order_date: not a date YYYY-MM-DD ('2022/01/05')",
        "order_date: not a date YYYY-MM-DD ('20220105')",
        "order_date: not a date YYYY-MM-DD (' 022-01-05')",
        "amount: not a number ('Infinity')",
        "amount: not a number ('inf')",
    ]
    assert (counts["quarantined"], counts["path"]) == (5, "checked")


def test_a_declared_type_narrower_than_the_table_s_still_judges_the_values(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "40000,2022-01-01,,1,\n")

    counts = load(bucket, "orders.csv", columns=[("order_id", "smallint", False), *COLUMNS[1:]])

    assert query(target, REJECTS_SQL) == [(5, "40000,2022-01-01,,1,", "order_id: out of range for smallint ('40000')")]
    assert counts["inserted"] == 3


def test_values_are_not_altered_spaces_in_numbers_are_formatting_text_is_kept_as_written(local_aws, bucket, target):
    put(
        local_aws,
        bucket,
        "orders.csv",
        "order_id,order_date,shipped,amount,note\n"
        ' 1 ,2022-01-01, 2022-01-02 , 5.5 ,  padded text  \n2,2022-01-01,,,"quoted ""text"""\n'
        '3,"2022-01-03","","",""\n',
    )

    counts = load(bucket, "orders.csv")

    assert query(target, ROWS_SQL) == [
        (1, "2022-01-01", "2022-01-02", "5.50", "  padded text  "),
        (2, "2022-01-01", None, None, 'quoted "text"'),
        (3, "2022-01-03", None, None, None),  # an empty field is NULL, quoted or not
    ]
    assert counts["path"] == "typed"


def test_a_key_with_an_embedded_line_break_is_quarantined_and_does_not_rewrite_the_existing_row(
    local_aws, bucket, target
):
    put(local_aws, bucket, "orders.csv", GOOD_CSV)
    load(bucket, "orders.csv")
    before = query(target, ROWS_SQL)
    put(local_aws, bucket, "orders.csv", 'order_id,order_date,shipped,amount,note\n"2\n",2021-04-06,,0,rewritten\n')

    counts = load(bucket, "orders.csv", logical_date="2022-09-07")

    assert query(target, ROWS_SQL) == before
    assert (counts["read"], counts["quarantined"], counts["updated"]) == (1, 1, 0)
    assert query(target, "SELECT reason FROM staging.orders_rejects WHERE logical_date = '2022-09-07'") == [
        ("order_id: contains a line break or tab ('2\\n')",)
    ]


def test_a_key_repeated_in_the_file_loads_its_first_row_and_quarantines_the_others(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "2,2021-04-07,,1,again\n" + "2,2021-04-08,,1,and again\n")

    counts = load(bucket, "orders.csv")

    assert query(target, "SELECT note FROM staging.orders WHERE order_id = 2") == [(None,)]
    assert query(target, REJECTS_SQL) == [
        (5, "2,2021-04-07,,1,again", "duplicate key (order_id=2, first on line 3)"),
        (6, "2,2021-04-08,,1,and again", "duplicate key (order_id=2, first on line 3)"),
    ]
    assert counts["quarantine_reasons"] == {"duplicate key": 2}


def test_a_repeated_key_is_quarantined_when_the_first_row_equals_the_target_and_one_repeat_changes_it(
    local_aws, bucket, target
):
    put(local_aws, bucket, "orders.csv", GOOD_CSV)
    load(bucket, "orders.csv")
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "2,2021-04-07,,1,again\n")

    counts = load(bucket, "orders.csv")

    assert query(target, "SELECT order_date::text, note FROM staging.orders WHERE order_id = 2") == [
        ("2021-04-06", None)
    ]
    assert query(target, REJECTS_SQL) == [(5, "2,2021-04-07,,1,again", "duplicate key (order_id=2, first on line 3)")]
    assert (counts["updated"], counts["unchanged"], counts["quarantined"]) == (0, 3, 1)


def test_reordered_and_extra_columns_are_matched_by_name(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", "note,extra,amount,order_id,shipped,order_date\nhi,zz,3,9,,2022-01-01\n")

    load(bucket, "orders.csv")

    assert query(target, ROWS_SQL) == [(9, "2022-01-01", None, "3.00", "hi")]


def test_a_header_missing_a_column_fails_without_retry_and_changes_nothing(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", "order_id,date\n1,2022-01-01\n")

    with pytest.raises(BadHeader, match=r"lacks field\(s\) \['order_date', 'shipped', 'amount', 'note'\]"):
        load(bucket, "orders.csv")

    assert query(target, ROWS_SQL) == []


def test_reject_rate_above_limit_fails_and_keeps_target_but_records_rejects(local_aws, bucket, target):
    put(local_aws, bucket, "orders.csv", GOOD_CSV + "x,2022-01-01,,1,\n")

    with pytest.raises(TooManyRejects, match=r"1 of 4 rows .* quarantined \(25.0% > 10.0%\); target staging.orders"):
        load(bucket, "orders.csv", max_reject_rate="0.1")

    assert query(target, ROWS_SQL) == []
    assert query(target, "SELECT line_number FROM staging.orders_rejects") == [(5,)]


@pytest.mark.parametrize("content", ["", "order_id,order_date,shipped,amount,note\n"])
def test_empty_file_loads_nothing_and_keeps_existing_rows(local_aws, bucket, target, content):
    put(local_aws, bucket, "orders.csv", GOOD_CSV)
    load(bucket, "orders.csv")
    put(local_aws, bucket, "orders.csv", content)

    counts = load(bucket, "orders.csv", logical_date="2022-09-07")

    assert (counts["read"], counts["loaded"], counts["quarantined"]) == (0, 0, 0)
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


def test_surrogate_keys_are_deterministic_and_distinguish_identical_rows(target):
    import psycopg2

    execute(target, "CREATE TABLE staging.reviews (review_id text PRIMARY KEY, review smallint, product_id integer)")
    reviews = Target(
        "staging.reviews",
        as_columns([("review", "smallint", False), ("product_id", "integer", False)]),
        ["review_id"],
        SurrogateKey("review_id", ("product_id", "review")),
    )
    conn = psycopg2.connect(target)
    try:
        for _ in range(2):
            counts = load_csv(
                conn,
                [b"review,product_id\n5,1\n5,1\n3,1\n"],
                target=reviews,
                source_key="local",
                logical_date="2022-09-06",
            )
    finally:
        conn.close()

    assert (counts["inserted"], counts["unchanged"]) == (0, 3)
    assert query(target, "SELECT count(DISTINCT review_id) FROM staging.reviews") == [(3,)]


def test_load_csv_copies_through_psycopg2_as_well(target):
    import psycopg2

    conn = psycopg2.connect(target)
    try:
        counts = load_csv(
            conn,
            [GOOD_CSV.encode(), b"4,2022-01-04,,NaN,\n"],  # the typed path stops mid-COPY, the checked one loads
            target=Target("staging.orders", as_columns(COLUMNS), ["order_id"]),
            source_key="local",
            logical_date="2022-09-06",
        )
    finally:
        conn.close()

    assert (counts["inserted"], counts["quarantined"], counts["path"]) == (3, 1, "checked")
    assert query(target, ROWS_SQL)[1] == (2, "2021-04-06", None, "1092.00", None)


def test_column_declares_its_header_source():
    assert Column("order_id", "integer", source="OrderID").header == "OrderID"


SLICED_DDL = """
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE staging.orders (drop_date date, order_id integer, order_date date NOT NULL, shipped date,
                             amount numeric(12,2), note text, PRIMARY KEY (drop_date, order_id));
"""
SLICED_SQL = "SELECT drop_date::text, order_id, shipped::text FROM staging.orders ORDER BY 1, 2"


def test_each_run_owns_its_slice_whatever_the_order_of_runs(local_aws, bucket, load_connections):
    execute(load_connections, SLICED_DDL)
    later = GOOD_CSV.replace("2021-04-06,,1092", "2021-04-06,2021-04-09,1092")
    put(local_aws, bucket, "d1.csv", GOOD_CSV)
    put(local_aws, bucket, "d2.csv", later)

    def run(key, day):
        return load(bucket, key, logical_date=day, slice_column="drop_date")

    run("d2.csv", "2022-09-07")
    run("d1.csv", "2022-09-06")
    one_order = query(load_connections, SLICED_SQL)
    execute(load_connections, "TRUNCATE staging.orders")
    run("d1.csv", "2022-09-06")
    run("d2.csv", "2022-09-07")
    run("d1.csv", "2022-09-06")  # a rerun of the earlier day after the later one

    assert query(load_connections, SLICED_SQL) == one_order
    assert [row for row in one_order if row[1] == 2] == [("2022-09-06", 2, None), ("2022-09-07", 2, "2021-04-09")]


def test_a_rerun_with_fewer_rows_deletes_them_from_its_slice_only(local_aws, bucket, load_connections):
    execute(load_connections, SLICED_DDL)
    put(local_aws, bucket, "d.csv", GOOD_CSV)
    load(bucket, "d.csv", logical_date="2022-09-06", slice_column="drop_date")
    load(bucket, "d.csv", logical_date="2022-09-07", slice_column="drop_date")
    put(local_aws, bucket, "d.csv", GOOD_CSV.replace("2,2021-04-06,,1092,\n", ""))

    counts = load(bucket, "d.csv", logical_date="2022-09-07", slice_column="drop_date")
    put(local_aws, bucket, "empty.csv", "order_id,order_date,shipped,amount,note\n")
    emptied = load(bucket, "empty.csv", logical_date="2022-09-06", slice_column="drop_date")

    assert (counts["deleted"], counts["unchanged"]) == (1, 2)
    assert (emptied["read"], emptied["deleted"]) == (0, 3)
    assert query(load_connections, "SELECT drop_date::text, order_id FROM staging.orders ORDER BY 1, 2") == [
        ("2022-09-07", 1),
        ("2022-09-07", 3),
    ]
