"""The local Athena's pure parts: Hive DDL parsing, Trino -> DuckDB translation and refusals, partition
predicates, and values printed as Athena prints them (no server needed)."""

from __future__ import annotations

import pytest
import sqlglot

from local_platform.aws.compute.athena import ddl, translate
from local_platform.aws.compute.athena.errors import AthenaQueryError
from local_platform.aws.compute.athena.results import duckdb_type, hive_type, java_double, trino_type


def test_create_external_table_parses_every_clause_athena_documents():
    statement = ddl.parse("""
        CREATE EXTERNAL TABLE IF NOT EXISTS `staging`.tweets (
          hashtag STRING COMMENT 'without #', tags ARRAY<STRING>, place STRUCT<lat:DOUBLE, lon:DOUBLE>,
          counts MAP<STRING, BIGINT>, price DECIMAL(10, 2))
        COMMENT 'raw tweets'
        PARTITIONED BY (year STRING, month STRING)
        ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'
        STORED AS TEXTFILE
        LOCATION 's3://lake/staging/tweets/'
        TBLPROPERTIES ('skip.header.line.count'='1', 'classification'='csv');""")

    assert statement == ddl.CreateTable(
        table=ddl.Name("staging", "tweets"),
        external=True,
        if_not_exists=True,
        columns=[
            ("hashtag", "string", "without #"),
            ("tags", "array<string>", None),
            ("place", "struct<lat:double,lon:double>", None),
            ("counts", "map<string,bigint>", None),
            ("price", "decimal(10,2)", None),
        ],
        partition_keys=[("year", "string", None), ("month", "string", None)],
        comment="raw tweets",
        serde="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        serde_parameters={"field.delim": "\t", "serialization.format": "\t", "escape.delim": "\\", "line.delim": "\n"},
        stored_as="TEXTFILE",
        location="s3://lake/staging/tweets/",
        properties={"skip.header.line.count": "1", "classification": "csv"},
    )


def test_partition_statements_and_octal_delimiters_parse():
    assert ddl.parse(
        "ALTER TABLE t ADD IF NOT EXISTS PARTITION (year='2026', day=30) LOCATION 's3://b/x/' "
        "PARTITION (year='2027', day='01')"
    ) == ddl.AddPartitions(
        ddl.Name(None, "t"), True, [({"year": "2026", "day": "30"}, "s3://b/x/"), ({"year": "2027", "day": "01"}, None)]
    )
    assert ddl.parse("alter table db.t drop if exists partition (year='2026'), partition (year='2027')") == (
        ddl.DropPartitions(ddl.Name("db", "t"), True, [{"year": "2026"}, {"year": "2027"}])
    )
    assert ddl.parse("MSCK REPAIR TABLE db.t") == ddl.RepairTable(ddl.Name("db", "t"))
    created = ddl.parse(
        "CREATE EXTERNAL TABLE t (a int) ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\001' LOCATION 's3://b/t/'"
    )
    assert created.serde_parameters["field.delim"] == "\x01"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "CREATE TABLE t AS SELECT 1",
        "CREATE TABLE t WITH (format='ORC') AS SELECT 1",
        "INSERT INTO t SELECT 1",
        "WITH x AS (SELECT 1) SELECT * FROM x",
    ],
)
def test_statements_that_are_not_hive_ddl_go_to_the_trino_path(sql):
    assert ddl.parse(sql) is None


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("CREATE EXTERNAL TABLE t (a integr) LOCATION 's3://b/'", "SYNTAX_ERROR: line 1:28: Unknown type 'integr'"),
        (
            "CREATE EXTERNAL TABLE t (a int, a string) LOCATION 's3://b/'",
            "DUPLICATE_COLUMN_NAME: line 1:33: Column name 'a' specified more than once",
        ),
        ("ALTER TABLE t RENAME TO u", "NOT_SUPPORTED: line 1:15: ALTER TABLE ... RENAME is not supported"),
        ("SHOW CREATE TABLE t", "NOT_SUPPORTED: line 1:6: SHOW CREATE is not supported"),
        ("MSCK REPAIR t", "SYNTAX_ERROR: line 1:13: mismatched input 't'. Expecting: 'TABLE'"),
    ],
)
def test_malformed_or_unsupported_ddl_fails_naming_the_place(sql, reason):
    with pytest.raises(AthenaQueryError) as raised:
        ddl.parse(sql)
    assert raised.value.reason.startswith(reason)


def test_trino_semantics_that_need_care_are_carried_or_refused():
    tree = translate.parse_trino("SELECT concat(a, b), date_add('day', 1, d), approx_distinct(x) FROM t")
    assert translate.to_duckdb(tree, "") == ("SELECT a || b, d + INTERVAL 1 DAY, APPROX_COUNT_DISTINCT(x) FROM t")
    with pytest.raises(AthenaQueryError, match="FUNCTION_NOT_FOUND: line 1:8: Function 'no_such'"):
        translate.to_duckdb(translate.parse_trino("SELECT no_such(x) FROM t"), "SELECT no_such(x) FROM t")


def test_unnamed_result_columns_are_named_as_trino_names_them():
    sql = "SELECT a, t.b, count(*), a + 1 AS c, lower(a) FROM t"
    named = translate.name_outputs(translate.parse_trino(sql), strict=False, sql=sql)
    assert named.named_selects == ["a", "b", "_col2", "c", "_col4"]
    with pytest.raises(
        AthenaQueryError, match="MISSING_COLUMN_NAME: line 1:16: Column name not specified at position 3"
    ):
        translate.name_outputs(translate.parse_trino(sql), strict=True, sql=sql)


@pytest.mark.parametrize(
    ("sql", "kept"),
    [
        ("SELECT * FROM t WHERE day = '30' AND x > 1", ["day = '30'"]),
        (
            "SELECT * FROM t AS s WHERE s.day IN ('1', '2') AND (s.year = '2026' OR s.year = '2025')",
            ["day IN ('1', '2')", "year = '2026' OR year = '2025'"],
        ),
        ("SELECT * FROM t WHERE day = '30' OR x > 1", []),  # the disjunction can hold in any partition
        ("SELECT * FROM t JOIN u ON t.id = u.id WHERE day = '30'", []),  # unqualified with two sources: ambiguous
        ("SELECT * FROM u LEFT JOIN t ON t.id = u.id WHERE t.day = '30' OR t.day IS NULL", []),  # nullable side
        ("SELECT * FROM t WHERE day = (SELECT max(day) FROM u)", []),
    ],
)
def test_partition_predicates_are_only_what_safely_prunes(sql, kept):
    tree = translate.parse_trino(sql)
    [ref] = [r for r in translate.table_refs(tree) if r.name == "t"]
    assert [p.sql("trino") for p in translate.partition_predicates(tree, ref, {"year", "day"})] == kept


def test_comparing_varchar_with_numbers_is_a_type_mismatch_as_in_trino():
    sql = "SELECT * FROM t WHERE t.year = 2026"
    with pytest.raises(AthenaQueryError, match=r"TYPE_MISMATCH: line 1:23: Cannot apply operator: varchar = integer"):
        translate.check_types(translate.parse_trino(sql), {"t": {"year": "varchar"}}, sql)
    translate.check_types(translate.parse_trino("SELECT * FROM t WHERE year = '2026'"), {"t": {"year": "varchar"}}, "")


def test_unload_ctas_and_insert_are_classified_with_their_properties():
    unload = translate.classify(
        "UNLOAD (SELECT a FROM t) TO 's3://b/out/' WITH (format = 'JSON', partitioned_by = ARRAY['a'])"
    )
    assert (unload.location, unload.properties) == ("s3://b/out/", {"format": "JSON", "partitioned_by": ["a"]})
    ctas = translate.classify(
        "CREATE TABLE db.r WITH (format = 'PARQUET', external_location = 's3://b/r/', "
        "partitioned_by = ARRAY['day']) AS SELECT a, day FROM t WITH NO DATA"
    )
    assert ctas.properties == {"format": "PARQUET", "external_location": "s3://b/r/", "partitioned_by": ["day"]}
    assert ctas.with_data is False
    insert = translate.classify("INSERT INTO db.t (a, b) VALUES (1, 'x')")
    assert (insert.table.name, insert.columns) == ("t", ["a", "b"])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2.5, "2.5"),
        (1e10, "1.0E10"),
        (0.1, "0.1"),
        (1e-4, "1.0E-4"),
        (1234567.0, "1234567.0"),
        (12345678.9, "1.23456789E7"),
        (-3.0, "-3.0"),
        (0.001, "0.001"),
        (float("nan"), "NaN"),
    ],
)
def test_doubles_print_as_java_does(value, text):
    assert java_double(value) == text


def test_types_map_between_glue_duckdb_and_trino():
    assert duckdb_type("array<struct<a:int,b:string>>") == 'STRUCT("a" INTEGER, "b" VARCHAR)[]'
    assert duckdb_type("map<string,decimal(10,2)>") == "MAP(VARCHAR, DECIMAL(10,2))"
    assert hive_type("STRUCT(a INTEGER, b VARCHAR[])") == "struct<a:int,b:array<string>>"
    assert trino_type("TIMESTAMP WITH TIME ZONE") == "timestamp(3) with time zone"
    assert translate.hive_to_trino_type("map<string,array<int>>") == "map(varchar, array(integer))"
    assert sqlglot.parse_one("SELECT CAST(x AS " + translate.hive_to_trino_type("struct<a:int>") + ")", read="trino")
