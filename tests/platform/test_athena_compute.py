"""The local Athena computes: queries over the Glue catalog's S3 data, DDL on the catalog, CTAS and INSERT INTO
writing files and partitions, Athena's states, statistics, results and errors. Expected values come from
pandas / pyarrow / plain Python over the same files."""

from __future__ import annotations

import csv
import io
import json
import random
import time

import pandas as pd
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError

from tests.platform.athena_helpers import Athena, parquet_bytes

DAYS = ("28", "29", "30")


@pytest.fixture
def athena(local_aws) -> Athena:
    return Athena(local_aws)


def tweets(day: str, rows: int = 1500) -> pd.DataFrame:
    rng = random.Random(int(day))
    hashtags = [f"tag{i:02d}" for i in range(25)]
    return pd.DataFrame(
        {
            "hashtag": [rng.choices(hashtags, weights=range(25, 0, -1))[0] for _ in range(rows)],
            "user_name": [f"user{rng.randrange(60)}" for _ in range(rows)],
            "polarity": [round(rng.uniform(-1, 1), 3) for _ in range(rows)],
        }
    )


@pytest.fixture
def staged_tweets(athena) -> tuple[str, dict[str, int]]:
    """A staging database with ``tweets`` (Parquet, partitioned by year/month/day, three days added with ALTER
    TABLE ADD PARTITION). Returns (database, bytes per day)."""
    staging = athena.db("staging")
    sizes = {
        day: athena.put(
            f"staging/tweets/year=2026/month=11/day={day}/part-0.parquet",
            parquet_bytes(pa.Table.from_pandas(tweets(day), preserve_index=False)),
        )
        for day in DAYS
    }
    athena.run(f"CREATE DATABASE IF NOT EXISTS {staging}")
    athena.run(f"""CREATE EXTERNAL TABLE IF NOT EXISTS {staging}.tweets (
                     hashtag string, user_name string, polarity double)
                   PARTITIONED BY (year string, month string, day string)
                   STORED AS PARQUET
                   LOCATION 's3://{athena.bucket}/staging/tweets/'""")
    adds = " ".join(
        f"PARTITION (year='2026', month='11', day='{day}') "
        f"LOCATION 's3://{athena.bucket}/staging/tweets/year=2026/month=11/day={day}/'"
        for day in DAYS
    )
    athena.run(f"ALTER TABLE {staging}.tweets ADD IF NOT EXISTS {adds}")
    return staging, sizes


TOP_N = """SELECT hashtag, count(*) AS tweets, count(DISTINCT user_name) AS users, avg(polarity) AS polarity
           FROM tweets WHERE year = '2026' AND month = '11' AND day = '30'
           GROUP BY hashtag ORDER BY tweets DESC, hashtag LIMIT 10"""


def expected_top_n(frame: pd.DataFrame) -> list[tuple]:
    grouped = (
        frame.groupby("hashtag")
        .agg(tweets=("hashtag", "size"), users=("user_name", "nunique"), polarity=("polarity", "mean"))
        .reset_index()
    )
    grouped = grouped.sort_values(["tweets", "hashtag"], ascending=[False, True]).head(10)
    return [(r.hashtag, r.tweets, r.users, r.polarity) for r in grouped.itertuples()]


# ---- queries ---------------------------------------------------------------------------------------------------


def test_top_n_over_one_partition_matches_pandas_and_reads_only_that_partition(athena, staged_tweets):
    staging, sizes = staged_tweets

    execution = athena.run(TOP_N, staging)

    rows = athena.rows(execution["QueryExecutionId"])
    assert rows[0] == ["hashtag", "tweets", "users", "polarity"]
    got = [(h, int(t), int(u), float(p)) for h, t, u, p in rows[1:]]
    expected = expected_top_n(tweets("30"))
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    assert [g[3] for g in got] == pytest.approx([e[3] for e in expected], abs=1e-12)
    assert execution["Statistics"]["DataScannedInBytes"] == sizes["30"]


def test_partition_predicates_decide_which_files_are_read(athena, staged_tweets):
    staging, sizes = staged_tweets

    def scanned(where: str) -> tuple[int, int]:
        execution = athena.run(f"SELECT count(*) FROM tweets {where}", staging)
        return int(athena.rows(execution["QueryExecutionId"])[1][0]), execution["Statistics"]["DataScannedInBytes"]

    assert scanned("") == (4500, sum(sizes.values()))
    assert scanned("WHERE day = '29'") == (1500, sizes["29"])
    assert scanned("WHERE day IN ('28', '30') AND year = '2026'") == (3000, sizes["28"] + sizes["30"])
    assert scanned("WHERE CAST(day AS integer) >= 29 AND polarity > 2") == (0, sizes["29"] + sizes["30"])
    assert scanned("WHERE day = '29' OR polarity > 0.5") == (
        1500 + sum(int((tweets(d).polarity > 0.5).sum()) for d in ("28", "30")),
        sum(sizes.values()),
    )
    assert scanned("WHERE month = '12'") == (0, 0)


def test_get_query_execution_reports_what_the_hook_and_waiters_read(athena, staged_tweets):
    staging, _ = staged_tweets
    query_id = athena.start(TOP_N, staging)
    seen = []
    while not seen or seen[-1] not in ("SUCCEEDED", "FAILED"):
        seen.append(athena.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"])
    execution = athena.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]

    order = ["QUEUED", "RUNNING", "SUCCEEDED"]
    assert [order.index(state) for state in seen] == sorted(order.index(state) for state in seen)
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["Status"]["CompletionDateTime"] >= execution["Status"]["SubmissionDateTime"]
    assert execution["StatementType"] == "DML"
    assert execution["QueryExecutionContext"] == {"Database": staging, "Catalog": "AwsDataCatalog"}
    assert execution["ResultConfiguration"]["OutputLocation"] == f"{athena.output}{query_id}.csv"
    assert execution["WorkGroup"] == "primary"
    statistics = execution["Statistics"]
    assert statistics["DataScannedInBytes"] > 0
    assert statistics["TotalExecutionTimeInMillis"] >= statistics["EngineExecutionTimeInMillis"] >= 0
    assert {"QueryQueueTimeInMillis", "ServiceProcessingTimeInMillis"} <= set(statistics)


def test_results_csv_and_metadata_are_written_under_the_output_location(athena, staged_tweets):
    staging, _ = staged_tweets
    execution = athena.run(TOP_N, staging)
    location = execution["ResultConfiguration"]["OutputLocation"]

    body = athena.get(location).decode()
    assert body.startswith('"hashtag","tweets","users","polarity"\n')
    assert list(csv.reader(io.StringIO(body))) == athena.rows(execution["QueryExecutionId"])
    metadata = json.loads(athena.get(location + ".metadata"))
    assert [(c["Name"], c["Type"]) for c in metadata["ColumnInfo"]] == [
        ("hashtag", "varchar"),
        ("tweets", "bigint"),
        ("users", "bigint"),
        ("polarity", "double"),
    ]


def test_values_are_strings_as_athena_prints_them_with_typed_column_info(athena):
    execution = athena.run(
        "SELECT 7 / 2 AS quotient, 1e10 AS big, 0.1E0 AS tenth, true AS flag, DATE '2026-11-30' AS d, "
        "TIMESTAMP '2026-11-30 08:00:01' AS ts, CAST(NULL AS varchar) AS nothing, ARRAY[1, 2] AS "
        "list, CAST(1.5 AS decimal(10, 2)) AS price, 'a' || 'b', count(*) FROM (VALUES 1) AS t(x)"
    )
    result = athena.client.get_query_results(QueryExecutionId=execution["QueryExecutionId"])

    rows = result["ResultSet"]["Rows"]
    assert rows[0]["Data"][9:] == [{"VarCharValue": "_col9"}, {"VarCharValue": "_col10"}]
    assert rows[1]["Data"] == [
        {"VarCharValue": v} if v is not None else {}
        for v in (
            "3",
            "1.0E10",
            "0.1",
            "true",
            "2026-11-30",
            "2026-11-30 08:00:01.000",
            None,
            "[1, 2]",
            "1.50",
            "ab",
            "1",
        )
    ]
    info = result["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [c["Type"] for c in info] == [
        "integer",
        "double",
        "double",
        "boolean",
        "date",
        "timestamp",
        "varchar",
        "array",
        "decimal",
        "varchar",
        "bigint",
    ]
    assert (info[8]["Precision"], info[8]["Scale"]) == (10, 2)


def test_get_query_results_pages_with_next_token_and_the_header_first(athena):
    execution = athena.run("SELECT x FROM UNNEST(sequence(1, 2500)) AS t(x) ORDER BY x")
    query_id = execution["QueryExecutionId"]

    first = athena.client.get_query_results(QueryExecutionId=query_id, MaxResults=1000)
    pages = list(
        athena.client.get_paginator("get_query_results").paginate(
            QueryExecutionId=query_id, PaginationConfig={"PageSize": 1000}
        )
    )

    assert [len(page["ResultSet"]["Rows"]) for page in pages] == [1000, 1000, 501]
    assert first["ResultSet"]["Rows"][0]["Data"] == [{"VarCharValue": "x"}]
    values = [row["Data"][0]["VarCharValue"] for page in pages for row in page["ResultSet"]["Rows"]]
    assert values == ["x"] + [str(i) for i in range(1, 2501)]
    with pytest.raises(ClientError, match="less than or equal to 1000"):
        athena.client.get_query_results(QueryExecutionId=query_id, MaxResults=1001)


def test_list_and_batch_get_query_executions(athena):
    workgroup = f"wg-{athena.suffix}"
    athena.client.create_work_group(
        Name=workgroup, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{athena.results}/wg/"}}
    )
    ids = [athena.run(f"SELECT {n}", WorkGroup=workgroup, ResultConfiguration={})["QueryExecutionId"] for n in range(3)]

    listed = athena.client.list_query_executions(WorkGroup=workgroup, MaxResults=2)
    rest = athena.client.list_query_executions(WorkGroup=workgroup, NextToken=listed["NextToken"])
    batch = athena.client.batch_get_query_execution(QueryExecutionIds=[ids[0], "no-such-id"])

    assert listed["QueryExecutionIds"] + rest["QueryExecutionIds"] == ids[::-1]
    [described] = batch["QueryExecutions"]
    assert described["QueryExecutionId"] == ids[0] and described["Query"] == "SELECT 0"
    assert described["ResultConfiguration"]["OutputLocation"] == f"s3://{athena.results}/wg/{ids[0]}.csv"
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "no-such-id"
    assert athena.get(described["ResultConfiguration"]["OutputLocation"]) == b'"_col0"\n"0"\n'


def test_a_query_without_any_output_location_is_rejected(athena):
    with pytest.raises(ClientError, match="No output location provided"):
        athena.client.start_query_execution(QueryString="SELECT 1")
    with pytest.raises(ClientError, match="was not found"):
        athena.client.get_query_execution(QueryExecutionId="no-such-id")


def test_execution_parameters_are_bound_in_order(athena, staged_tweets):
    staging, _ = staged_tweets
    execution = athena.run(
        "SELECT count(*) FROM tweets WHERE day = ? AND polarity > ?", staging, ExecutionParameters=["'30'", "0.5"]
    )
    assert athena.rows(execution["QueryExecutionId"])[1] == [str(int((tweets("30").polarity > 0.5).sum()))]
    assert execution["ExecutionParameters"] == ["'30'", "0.5"]


SLOW = "SELECT sum(length(CAST(a.x * b.y AS varchar))) FROM UNNEST(sequence(1, 100000)) a(x), UNNEST(sequence(1, 100000)) b(y)"


def test_stop_query_execution_cancels_running_and_queued_queries(athena):
    ids = [athena.start(SLOW) for _ in range(5)]  # four run at once; the fifth waits QUEUED
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = [
            e["Status"]["State"]
            for e in athena.client.batch_get_query_execution(QueryExecutionIds=ids)["QueryExecutions"]
        ]
        if states.count("RUNNING") == 4:
            break
        time.sleep(0.05)
    assert sorted(states) == ["QUEUED", "RUNNING", "RUNNING", "RUNNING", "RUNNING"]

    for query_id in ids:
        athena.client.stop_query_execution(QueryExecutionId=query_id)

    for query_id in ids:
        execution = athena.wait(query_id, timeout=30)
        assert execution["Status"]["State"] == "CANCELLED"
    with pytest.raises(ClientError, match="Final query state: CANCELLED"):
        athena.client.get_query_results(QueryExecutionId=ids[0])
    assert athena.run("SELECT 1")  # the workers are free again


# ---- reading each storage format -------------------------------------------------------------------------------


def test_delimited_text_table_skips_headers_and_reads_hive_nulls(athena):
    database = athena.db("text")
    body = "id|name|amount|day\n1|ann|2.5|2026-11-30\n2||\\N|2026-11-31\n3|\\N|x|\n"
    athena.put("text/orders/a.csv", body)
    athena.put("text/orders/b.csv", "id|name|amount|day\n4|bob|10|2026-12-01\n")
    athena.put("text/orders/_SUCCESS", "")
    athena.run(f"CREATE DATABASE {database}")
    athena.run(f"""CREATE EXTERNAL TABLE {database}.orders (id int, name string, amount double, day date)
                   ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION 's3://{athena.bucket}/text/orders/'
                   TBLPROPERTIES ('skip.header.line.count'='1')""")

    rows = athena.query("SELECT id, name, amount, day FROM orders ORDER BY id", database)

    # Hive: '\N' is NULL, an empty string stays one, a value that does not parse as the column's type is NULL.
    assert rows == [
        ["1", "ann", "2.5", "2026-11-30"],
        ["2", "", None, None],
        ["3", None, None, None],
        ["4", "bob", "10.0", "2026-12-01"],
    ]


def test_open_csv_serde_table_reads_quoted_fields(athena):
    database = athena.db("csv")
    body = 'name,comment,score\n"Smith, J","said ""hi""",3\nLee,plain,4\n'
    athena.put("csv/people/people.csv", body)
    athena.run(f"CREATE DATABASE {database}")
    athena.run(f"""CREATE EXTERNAL TABLE {database}.people (name string, comment string, score int)
                   ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
                   WITH SERDEPROPERTIES ('separatorChar'=',', 'quoteChar'='"', 'escapeChar'='\\\\')
                   LOCATION 's3://{athena.bucket}/csv/people/' TBLPROPERTIES ('skip.header.line.count'='1')""")

    rows = athena.query("SELECT name, comment, score * 2 FROM people ORDER BY name", database)

    expected = sorted(list(csv.reader(io.StringIO(body)))[1:])
    assert rows == [[n, c, str(int(s) * 2)] for n, c, s in expected]


def test_json_lines_table_matches_keys_case_insensitively(athena):
    database = athena.db("json")
    records = [
        {"Hashtag": "a", "likes": 3, "at": "2026-11-30 08:00:00"},
        {"hashtag": "b", "likes": None},
        {"hashtag": "a", "likes": 5, "extra": [1]},
    ]
    athena.put("json/events/day=30/e.json", "\n".join(json.dumps(r) for r in records) + "\n")
    athena.run(f"CREATE DATABASE {database}")
    athena.run(f"""CREATE EXTERNAL TABLE {database}.events (hashtag string, likes bigint, `at` timestamp)
                   PARTITIONED BY (day string)
                   ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
                   LOCATION 's3://{athena.bucket}/json/events/'""")
    athena.run(f"MSCK REPAIR TABLE {database}.events")

    rows = athena.query(
        'SELECT hashtag, sum(likes), max("at"), max(day) FROM events GROUP BY hashtag ORDER BY hashtag', database
    )

    assert rows == [["a", "8", "2026-11-30 08:00:00.000", "30"], ["b", None, None, "30"]]


def test_query_over_a_table_the_local_crawler_created(athena):
    rows = [("fruit", 3), ("veg", 5), ("fruit", 4), ("grain", 10), ("veg", 1)]
    for day, part in (("2026-11-29", rows[:2]), ("2026-11-30", rows[2:])):
        athena.put(f"crawled/sales/dt={day}/sales.csv", "category,amount\n" + "".join(f"{c},{a}\n" for c, a in part))
    database, crawler = athena.db("crawled"), f"crawler-{athena.suffix}"
    athena.glue.create_crawler(
        Name=crawler,
        Role="arn:aws:iam::123456789012:role/glue",
        DatabaseName=database,
        Targets={"S3Targets": [{"Path": f"s3://{athena.bucket}/crawled/"}]},
    )
    athena.glue.start_crawler(Name=crawler)
    deadline = time.monotonic() + 60
    while athena.glue.get_crawler(Name=crawler)["Crawler"]["State"] != "READY" and time.monotonic() < deadline:
        time.sleep(0.2)

    result = athena.query(
        "SELECT category, sum(amount) AS total, count(DISTINCT dt) FROM sales GROUP BY category ORDER BY category",
        database,
    )

    totals: dict[str, int] = {}
    for category, amount in rows:
        totals[category] = totals.get(category, 0) + amount
    assert result == [["fruit", "7", "2"], ["grain", "10", "1"], ["veg", "6", "2"]]
    assert [[c, int(t)] for c, t, _ in result] == sorted([c, t] for c, t in totals.items())


# ---- DDL -------------------------------------------------------------------------------------------------------


def test_create_external_table_writes_the_glue_catalog_as_athena_does(athena, staged_tweets):
    staging, _ = staged_tweets
    table = athena.glue.get_table(DatabaseName=staging, Name="tweets")["Table"]
    descriptor = table["StorageDescriptor"]

    assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
        ("hashtag", "string"),
        ("user_name", "string"),
        ("polarity", "double"),
    ]
    assert [(c["Name"], c["Type"]) for c in table["PartitionKeys"]] == [
        ("year", "string"),
        ("month", "string"),
        ("day", "string"),
    ]
    assert descriptor["Location"] == f"s3://{athena.bucket}/staging/tweets/"
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    assert descriptor["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert table["TableType"] == "EXTERNAL_TABLE"
    partitions = athena.glue.get_partitions(DatabaseName=staging, TableName="tweets")["Partitions"]
    assert sorted(p["Values"][2] for p in partitions) == list(DAYS)


def test_partition_ddl_show_partitions_and_msck_repair(athena, staged_tweets):
    staging, _ = staged_tweets
    athena.run(f"ALTER TABLE {staging}.tweets DROP IF EXISTS PARTITION (year='2026', month='11', day='28')")
    athena.run(f"ALTER TABLE {staging}.tweets DROP IF EXISTS PARTITION (year='2026', month='11', day='28')")
    shown = athena.rows(athena.run(f"SHOW PARTITIONS {staging}.tweets")["QueryExecutionId"])
    assert shown == [["year=2026/month=11/day=29"], ["year=2026/month=11/day=30"]]

    athena.put(
        "staging/tweets/year=2026/month=12/day=01/part-0.parquet",
        parquet_bytes(pa.Table.from_pandas(tweets("1", 10), preserve_index=False)),
    )
    repaired = athena.run(f"MSCK REPAIR TABLE {staging}.tweets")

    assert repaired["StatementType"] == "DDL"
    assert repaired["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    added = athena.rows(repaired["QueryExecutionId"])
    assert "Repair: Added partition to metastore tweets:year=2026/month=12/day=01" in [r[0] for r in added]
    assert "Repair: Added partition to metastore tweets:year=2026/month=11/day=28" in [r[0] for r in added]
    assert athena.query("SELECT count(*) FROM tweets WHERE month = '12'", staging) == [["10"]]
    status = athena.fail(f"ALTER TABLE {staging}.tweets ADD PARTITION (year='2026', month='11', day='29')")
    assert status["StateChangeReason"].startswith("ALREADY_EXISTS: Partition already exists")


def test_show_drop_and_existing_objects(athena, staged_tweets):
    staging, _ = staged_tweets
    assert athena.rows(athena.run(f"SHOW TABLES IN {staging}")["QueryExecutionId"]) == [["tweets"]]
    assert [staging] in athena.rows(athena.run(f"SHOW DATABASES LIKE '{staging}'")["QueryExecutionId"])
    assert athena.fail(f"CREATE DATABASE {staging}")["StateChangeReason"] == (
        f"ALREADY_EXISTS: Database {staging} already exists"
    )
    assert "is not empty" in athena.fail(f"DROP DATABASE {staging}")["StateChangeReason"]

    athena.run(f"DROP TABLE {staging}.tweets")
    athena.run(f"DROP TABLE IF EXISTS {staging}.tweets")
    athena.run(f"DROP DATABASE {staging}")

    assert athena.keys("staging/tweets/")  # an external table's data stays
    assert athena.fail(f"DROP TABLE {staging}.tweets")["StateChangeReason"].startswith("SCHEMA_NOT_FOUND")


# ---- writes ----------------------------------------------------------------------------------------------------


def test_ctas_writes_partitioned_parquet_files_and_registers_the_table(athena, staged_tweets):
    staging, _ = staged_tweets
    analytical = athena.db("analytical")
    athena.run(f"CREATE DATABASE {analytical}")
    location = f"s3://{athena.bucket}/analytical/report/"

    execution = athena.run(
        f"""CREATE TABLE {analytical}.report
        WITH (format = 'PARQUET', external_location = '{location}', partitioned_by = ARRAY['day']) AS
        SELECT hashtag, count(*) AS tweets, avg(polarity) AS polarity, day
        FROM tweets WHERE day IN ('29', '30') GROUP BY hashtag, day""",
        staging,
    )

    frame = pd.concat([tweets(d).assign(day=d) for d in ("29", "30")])
    expected = frame.groupby(["hashtag", "day"]).agg(tweets=("hashtag", "size"), polarity=("polarity", "mean"))
    assert athena.rows(execution["QueryExecutionId"]) == [["rows"], [str(len(expected))]]
    assert execution["StatementType"] == "DDL" and execution["SubstatementType"] == "CREATE_TABLE_AS_SELECT"
    keys = athena.keys("analytical/report/")
    assert {k.split("/")[2] for k in keys} == {"day=29", "day=30"}
    written = (
        pd.concat(
            [athena.read_parquet_prefix(f"analytical/report/day={d}/").to_pandas().assign(day=d) for d in ("29", "30")]
        )
        .set_index(["hashtag", "day"])
        .sort_index()
    )
    assert written["tweets"].tolist() == expected.sort_index()["tweets"].tolist()
    assert written["polarity"].tolist() == pytest.approx(expected.sort_index()["polarity"].tolist())
    table = athena.glue.get_table(DatabaseName=analytical, Name="report")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("hashtag", "string"),
        ("tweets", "bigint"),
        ("polarity", "double"),
    ]
    assert table["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    partitions = athena.glue.get_partitions(DatabaseName=analytical, TableName="report")["Partitions"]
    assert sorted((p["Values"], p["StorageDescriptor"]["Location"]) for p in partitions) == [
        (["29"], f"{location}day=29/"),
        (["30"], f"{location}day=30/"),
    ]
    manifest = athena.get(execution["Statistics"]["DataManifestLocation"]).decode().split()
    assert sorted(manifest) == [f"s3://{athena.bucket}/{k}" for k in keys]
    assert athena.query(f"SELECT sum(tweets) FROM {analytical}.report") == [["3000"]]
    status = athena.fail(f"CREATE TABLE {analytical}.again WITH (external_location = '{location}') AS SELECT 1 AS x")
    assert status["StateChangeReason"] == (
        f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{analytical}.again' already exists: {location}"
    )


def test_insert_into_replaces_a_day_idempotently_with_drop_partition_and_s3_delete(athena, staged_tweets):
    staging, _ = staged_tweets
    analytical = athena.db("analytical")
    athena.run(f"CREATE DATABASE {analytical}")
    athena.run(f"""CREATE EXTERNAL TABLE IF NOT EXISTS {analytical}.hashtag_data (
                     hashtag string, user_name string, polarity double)
                   PARTITIONED BY (year string, month string, day string) STORED AS PARQUET
                   LOCATION 's3://{athena.bucket}/analytical/hashtag_data/'""")
    insert = (
        f"INSERT INTO {analytical}.hashtag_data SELECT hashtag, user_name, polarity, year, month, day "
        f"FROM {staging}.tweets WHERE year = '2026' AND month = '11' AND day = '30'"
    )

    def load_day() -> dict:
        athena.run(
            f"ALTER TABLE {analytical}.hashtag_data DROP IF EXISTS PARTITION (year='2026', month='11', day='30')"
        )
        for key in athena.keys("analytical/hashtag_data/year=2026/month=11/day=30/"):
            athena.s3.delete_object(Bucket=athena.bucket, Key=key)
        return athena.run(insert)

    first = load_day()
    second = load_day()

    assert athena.rows(second["QueryExecutionId"]) == [["rows"], ["1500"]]
    assert first["SubstatementType"] == "INSERT"
    files = athena.keys("analytical/hashtag_data/")
    assert len(files) == 1 and files[0].startswith("analytical/hashtag_data/year=2026/month=11/day=30/")
    assert athena.read_parquet_prefix("analytical/hashtag_data/").to_pandas().equals(tweets("30"))
    partitions = athena.glue.get_partitions(DatabaseName=analytical, TableName="hashtag_data")["Partitions"]
    assert [(p["Values"], p["StorageDescriptor"]["Location"]) for p in partitions] == [
        (["2026", "11", "30"], f"s3://{athena.bucket}/analytical/hashtag_data/year=2026/month=11/day=30/")
    ]
    top = athena.query(TOP_N.replace("FROM tweets", "FROM hashtag_data"), analytical)
    assert [(h, int(t), int(u)) for h, t, u, _ in top] == [e[:3] for e in expected_top_n(tweets("30"))]


def test_insert_values_into_an_operational_log_and_coercion_rules(athena):
    database = athena.db("ops")
    athena.run(f"CREATE DATABASE {database}")
    athena.run(f"""CREATE EXTERNAL TABLE {database}.data_update_log (
                     pipeline string, run_date date, rows_loaded bigint, loaded_at timestamp)
                   ROW FORMAT DELIMITED FIELDS TERMINATED BY '\\t' STORED AS TEXTFILE
                   LOCATION 's3://{athena.bucket}/ops/data_update_log/'""")

    athena.run(
        f"INSERT INTO {database}.data_update_log VALUES ('tweet_hashtags', DATE '2026-11-30', 1500, "
        "TIMESTAMP '2026-12-01 02:00:00')"
    )
    athena.run(f"INSERT INTO {database}.data_update_log (pipeline, rows_loaded) VALUES ('tweet_hashtags', 12)")

    [first, second] = [athena.get(f"s3://{athena.bucket}/{k}").decode() for k in athena.keys("ops/")]
    assert sorted([first, second]) == [
        "tweet_hashtags\t2026-11-30\t1500\t2026-12-01 02:00:00.000\n",
        "tweet_hashtags\t\\N\t12\t\\N\n",
    ]
    assert athena.query(
        "SELECT pipeline, sum(rows_loaded), max(run_date) FROM data_update_log GROUP BY pipeline", database
    ) == [["tweet_hashtags", "1512", "2026-11-30"]]
    status = athena.fail(
        f"INSERT INTO {database}.data_update_log VALUES ('x', DATE '2026-11-30', 1, current_timestamp)"
    )
    assert status["StateChangeReason"] == (
        "TYPE_MISMATCH: Insert query has mismatched column types: Table: [varchar, date, bigint, timestamp(3)], "
        "Query: [varchar, date, integer, timestamp(3) with time zone]"
    )


def test_ctas_report_as_csv_textfile_and_unload_as_json(athena, staged_tweets):
    staging, _ = staged_tweets
    athena.run(
        f"""CREATE TABLE top_hashtags WITH (format = 'TEXTFILE', field_delimiter = ',',
                     external_location = 's3://{athena.bucket}/reports/top/') AS {TOP_N}""",
        staging,
    )
    unload = athena.run(f"UNLOAD ({TOP_N}) TO 's3://{athena.bucket}/unload/top/' WITH (format = 'JSON')", staging)

    expected = expected_top_n(tweets("30"))
    [text_file] = athena.keys("reports/top/")
    lines = athena.get(f"s3://{athena.bucket}/{text_file}").decode().splitlines()
    assert [line.split(",")[:3] for line in lines] == [[h, str(t), str(u)] for h, t, u, _ in expected]
    [json_file] = athena.keys("unload/top/")
    records = [json.loads(line) for line in athena.get(f"s3://{athena.bucket}/{json_file}").decode().splitlines()]
    assert [(r["hashtag"], r["tweets"], r["users"]) for r in records] == [e[:3] for e in expected]
    assert athena.rows(unload["QueryExecutionId"])[1] == ["10"]


# ---- what Athena rejects, and what the local engine refuses -------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT * FROM nope", "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.{staging}.nope' does not exist"),
        ("SELECT * FROM no_db.tweets", "SCHEMA_NOT_FOUND: line 1:15: Schema 'no_db' does not exist"),
        (
            "SELECT hashtagz FROM tweets",
            "COLUMN_NOT_FOUND: line 1:8: Column 'hashtagz' cannot be resolved or requester is "
            "not authorized to access requested resources",
        ),
        (
            "SELECT count(*) FROM tweets WHERE day = 30",
            "TYPE_MISMATCH: line 1:35: Cannot apply operator: varchar = integer",
        ),
        ("SELECT hashtag FORM tweets", "SYNTAX_ERROR: line 1:21: mismatched input 'tweets'"),
        (
            "SELECT hashtag, count(*) FROM tweets",
            "EXPRESSION_NOT_AGGREGATE: line 1:8: 'hashtag' must be an aggregate "
            "expression or appear in GROUP BY clause",
        ),
        (
            "SELECT no_such_function(hashtag) FROM tweets",
            "FUNCTION_NOT_FOUND: line 1:8: Function 'no_such_function' not registered",
        ),
        ("SELECT CAST(hashtag AS integer) FROM tweets", "INVALID_CAST_ARGUMENT: "),
        (
            "CREATE VIEW v AS SELECT 1",
            "NOT_SUPPORTED: line 1:13: CREATE VIEW (views) is not supported by the local Athena engine",
        ),
        ("DELETE FROM tweets WHERE day = '30'", "NOT_SUPPORTED: "),
        ("SELECT 1; SELECT 2", "GENERIC_USER_ERROR: Only one sql statement is allowed"),
        (
            "CREATE EXTERNAL TABLE t2 (a int) CLUSTERED BY (a) INTO 4 BUCKETS LOCATION 's3://x/'",
            "NOT_SUPPORTED: line 1:34: CLUSTERED BY (bucketed or skewed tables) is not supported",
        ),
        ("CREATE EXTERNAL TABLE t3 (a int) STORED AS AVRO LOCATION 's3://x/'", None),
    ],
)
def test_what_athena_rejects_fails_with_its_kind_of_error(athena, staged_tweets, sql, reason):
    staging, _ = staged_tweets
    if reason is None:  # accepted DDL, refused when read
        athena.run(sql, staging)
        sql, reason = "SELECT * FROM t3", "NOT_SUPPORTED: reading tables with SerDe org.apache.hadoop.hive.serde2.avro"

    status = athena.fail(sql, staging)

    assert status["StateChangeReason"].startswith(reason.format(staging=staging))
    assert status["AthenaError"]["ErrorCategory"] == 2
    assert status["AthenaError"]["ErrorMessage"] == status["StateChangeReason"]
    assert isinstance(status["AthenaError"]["ErrorType"], int)
