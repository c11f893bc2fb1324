"""Redshift SQL -> PostgreSQL translation of the local Redshift stand-in (local_platform/aws/compute/redshift_sql.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_platform.aws.compute.redshift_data import standin_database_name
from local_platform.aws.compute.redshift_sql import (
    CopyCommand,
    TransactionControl,
    UnsupportedRedshiftSql,
    bind_parameters,
    commits_implicitly,
    parse_copy,
    split_statements,
    translate,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def squeeze(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).replace("( ", "(").replace(" )", ")").replace(" ,", ",").strip()


def test_create_table_storage_hints_are_stripped_and_the_rest_kept():
    sql = """CREATE TABLE IF NOT EXISTS public.toll (
        id BIGINT NOT NULL ENCODE az64 DISTKEY,
        plaza VARCHAR(MAX) ENCODE lzo,
        ts TIMESTAMP SORTKEY,
        note VARCHAR(40) DEFAULT 'DISTKEY(x) ENCODE raw',
        PRIMARY KEY (id)
    ) DISTSTYLE KEY COMPOUND SORTKEY (ts, id) ENCODE AUTO BACKUP NO;"""

    assert squeeze(translate(sql)) == (
        "CREATE TABLE IF NOT EXISTS public.toll (id BIGINT NOT NULL, plaza VARCHAR(65535), ts TIMESTAMP, "
        "note VARCHAR(40) DEFAULT 'DISTKEY(x) ENCODE raw', PRIMARY KEY (id))"
    )


@pytest.mark.parametrize(
    "hint",
    [
        "DISTSTYLE ALL",
        "DISTSTYLE EVEN",
        "DISTSTYLE AUTO",
        "DISTKEY (id)",
        "SORTKEY (id)",
        "INTERLEAVED SORTKEY (id, b)",
        "SORTKEY AUTO",
    ],
)
def test_each_table_level_storage_hint_is_stripped(hint):
    assert squeeze(translate(f"CREATE TABLE t (id INT, b INT) {hint}")) == "CREATE TABLE t (id INT, b INT)"


def test_the_toll_plaza_redshift_sql_translates_without_redshift_only_syntax():
    paths = sorted((PROJECT_ROOT / "include" / "sql" / "toll_plaza").glob("*.sql"))
    assert paths
    for path in paths:
        for statement in split_statements(path.read_text()):
            translated = translate(statement)
            assert isinstance(translated, str), path
            assert not re.search(r"\b(DISTKEY|SORTKEY|DISTSTYLE|ENCODE)\b", translated, re.I), (path, translated)


def test_hash_temp_tables_become_distinct_quoted_temporary_tables():
    assert translate("CREATE TABLE #Toll (LIKE public.toll INCLUDING DEFAULTS);") == (
        'CREATE TEMPORARY TABLE "#toll" (LIKE public.toll INCLUDING DEFAULTS)'
    )
    assert translate("DELETE FROM toll USING #toll WHERE toll.id = #toll.id") == (
        'DELETE FROM toll USING "#toll" WHERE toll.id = "#toll".id'
    )
    assert translate("SELECT id INTO #recent FROM t") == 'SELECT id INTO TEMPORARY TABLE "#recent" FROM t'
    assert translate("INSERT INTO #recent SELECT 1") == 'INSERT INTO "#recent" SELECT 1'
    assert translate("SELECT '#not_a_table', a # b FROM t") == "SELECT '#not_a_table', a # b FROM t"


def test_getdate_and_sysdate_become_utc_timestamps_without_time_zone():
    assert translate("SELECT GETDATE(), sysdate") == (
        "SELECT CAST(date_trunc('second', statement_timestamp()) AS timestamp), LOCALTIMESTAMP"
    )
    assert translate("SELECT 'getdate()'") == "SELECT 'getdate()'"


def test_transaction_statements_are_returned_as_controls():
    assert translate("BEGIN;") == TransactionControl("begin")
    assert translate("start transaction") == TransactionControl("begin")
    assert translate("COMMIT") == TransactionControl("commit")
    assert translate("END TRANSACTION") == TransactionControl("commit")
    assert translate("rollback;") == TransactionControl("rollback")


@pytest.mark.parametrize(
    "sql, named",
    [
        ("UNLOAD ('select 1') TO 's3://b/p' IAM_ROLE 'r'", "UNLOAD"),
        ("CREATE EXTERNAL TABLE spectrum.t (id INT) LOCATION 's3://b/p'", "CREATE EXTERNAL"),
        ("CREATE TABLE t (id INT IDENTITY(1, 1), v INT)", "IDENTITY"),
        ("CREATE TABLE t (doc SUPER)", "SUPER"),
        ("SELECT payload::super FROM t", "SUPER"),
        ("SELECT TOP 10 * FROM t", "TOP"),
        ("SELECT LISTAGG(name, ',') WITHIN GROUP (ORDER BY name) FROM t", "LISTAGG"),
        ("VACUUM DELETE ONLY t", "VACUUM"),
        ("ALTER TABLE t ALTER DISTKEY id", "ALTER DISTKEY"),
        ("ALTER TABLE t APPEND FROM s", "APPEND FROM"),
    ],
)
def test_untranslatable_redshift_syntax_is_rejected_by_name(sql, named):
    with pytest.raises(UnsupportedRedshiftSql, match=re.escape(named)):
        translate(sql)


def test_copy_as_s3_to_redshift_operator_emits_it_is_parsed():
    # The provider's _build_copy_query output for UPSERT, with copy_options ["FORMAT AS CSV", "IGNOREHEADER 1"].
    sql = """
                    COPY #toll (transaction_id, amount)
                    FROM 's3://landing/toll/dt=2024-05-01'
                    credentials
                    'aws_access_key_id=testing;aws_secret_access_key=testing'
                    region 'us-east-1'
                    FORMAT AS CSV
\t\t\tIGNOREHEADER 1;
        """
    assert translate(sql) == CopyCommand(
        table='"#toll"',
        columns=("transaction_id", "amount"),
        source="s3://landing/toll/dt=2024-05-01",
        format="csv",
        ignore_header=1,
    )


@pytest.mark.parametrize(
    "options, expected",
    [
        (
            "IAM_ROLE 'arn:aws:iam::1:role/r' CSV DELIMITER ';' QUOTE AS '''' NULL AS '\\N' GZIP",
            {"format": "csv", "delimiter": ";", "quote": "'", "null_as": "\\N", "gzip": True},
        ),
        (
            "IAM_ROLE default FORMAT CSV TIMEFORMAT 'auto' DATEFORMAT AS 'AUTO' COMPUPDATE OFF STATUPDATE OFF",
            {"format": "csv"},
        ),
        (
            "IAM_ROLE 'r' CSV IGNOREHEADER 1 DATEFORMAT 'YYYY-MM-DD' TIMEFORMAT 'YYYY-MM-DD HH:MI:SS'",
            {"format": "csv", "ignore_header": 1},
        ),
        ("CREDENTIALS 'aws_iam_role=arn:aws:iam::1:role/r' FORMAT AS JSON 'auto'", {"format": "json"}),
        ("IAM_ROLE 'r' JSON 'auto ignorecase'", {"format": "json", "json_ignore_case": True}),
        ("IAM_ROLE 'r' JSON", {"format": "json"}),
        ("IAM_ROLE 'r' FORMAT AS PARQUET", {"format": "parquet"}),
    ],
)
def test_supported_copy_forms(options, expected):
    command = parse_copy(f"COPY analytics.rides FROM 's3://b/rides/' {options}")

    assert command == CopyCommand(table="analytics.rides", columns=(), source="s3://b/rides/", **expected)


@pytest.mark.parametrize(
    "sql, named",
    [
        ("COPY t FROM 's3://b/p' IAM_ROLE 'r'", "without FORMAT"),
        ("COPY t FROM 's3://b/p' IAM_ROLE 'r' CSV MANIFEST", "MANIFEST"),
        ("COPY t FROM 's3://b/p' IAM_ROLE 'r' FORMAT AS AVRO 'auto'", "AVRO"),
        ("COPY t FROM 's3://b/p' IAM_ROLE 'r' JSON 's3://b/jsonpaths.json'", "JSON 's3://b/jsonpaths.json'"),
        ("COPY t FROM 's3://b/p' IAM_ROLE 'r' CSV TIMEFORMAT 'epochsecs'", "TIMEFORMAT 'epochsecs'"),
        ("COPY t FROM 's3://b/p' IAM_ROLE 'r' CSV DATEFORMAT 'DD/MM/YYYY'", "DATEFORMAT 'DD/MM/YYYY'"),
        ("COPY t FROM 's3://b/p' IAM_ROLE 'r' PARQUET IGNOREHEADER 1", "CSV only"),
        ("COPY t FROM 'dynamodb://table' IAM_ROLE 'r' CSV", "dynamodb://"),
    ],
)
def test_unsupported_copy_forms_are_rejected_by_name(sql, named):
    with pytest.raises(UnsupportedRedshiftSql, match=re.escape(named)):
        translate(sql)


def test_truncate_commits_implicitly_like_redshift():
    assert commits_implicitly("truncate table public.toll")
    assert not commits_implicitly("DELETE FROM public.toll")
    assert not commits_implicitly("SELECT 'TRUNCATE'")


def test_statements_split_on_semicolons_outside_literals_and_comments():
    sql = "SELECT ';' AS a; -- a comment; with a semicolon\nSELECT $$;$$;\n/* ; */ ;  "

    assert split_statements(sql) == ["SELECT ';' AS a", "SELECT $$;$$"]


def test_named_parameters_bind_and_percent_signs_survive():
    sql, values = bind_parameters(
        "SELECT :id, x::int FROM t WHERE name LIKE 'a%' AND note = ':id'", [{"name": "id", "value": "7"}]
    )

    assert sql == "SELECT %(id)s, x::int FROM t WHERE name LIKE 'a%%' AND note = ':id'"
    assert values == {"id": "7"}
    assert bind_parameters("SELECT '100%'", None) == ("SELECT '100%'", None)
    with pytest.raises(UnsupportedRedshiftSql, match=":missing"):
        bind_parameters("SELECT :missing", [{"name": "id", "value": "7"}])


def test_standin_database_name_is_namespaced_sanitised_and_fits_postgresql():
    assert standin_database_name("t1a2b3", "Toll-Cluster", "dev") == "t1a2b3_rs_toll_cluster_dev"
    long_name = standin_database_name("ns", "c" * 80, "dev")
    assert len(long_name) == 63 and long_name.startswith("ns_rs_ccc")
