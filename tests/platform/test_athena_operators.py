"""The Amazon provider's Athena operator (plain and deferrable), sensor and SQL hook against the local Athena,
in one DAG run with ``dag.test()``: the tweet_hashtags shape (staging table, repair, top-N report, CSV export)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pytest

from tests.platform.athena_helpers import Athena, parquet_bytes
from tests.platform.compute_dags import run_test_dag
from tests.platform.test_athena_compute import TOP_N, expected_top_n, tweets

pytestmark = pytest.mark.dag_run


def test_athena_operator_sensor_and_sql_hook_run_a_pipeline_for_real(local_aws, airflow_settings, monkeypatch):
    import pendulum
    from airflow.providers.amazon.aws.operators.athena import AthenaOperator
    from airflow.providers.amazon.aws.sensors.athena import AthenaSensor
    from airflow.providers.amazon.aws.transfers.sql_to_s3 import SqlToS3Operator
    from airflow.sdk import DAG, chain

    athena = Athena(local_aws)
    staging = athena.db("staging")
    for day in ("29", "30"):
        athena.put(
            f"tweets/year=2026/month=11/day={day}/part-0.parquet",
            parquet_bytes(pa.Table.from_pandas(tweets(day), preserve_index=False)),
        )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATHENA_LOCAL",
        json.dumps(
            {
                "conn_type": "athena",
                "schema": staging,
                "extra": {
                    "region_name": "us-east-1",
                    "endpoint_url": local_aws.endpoint,
                    "s3_staging_dir": f"{athena.output}sql/",
                },
            }
        ),
    )
    common = {"database": staging, "output_location": athena.output, "sleep_time": 1, "aws_conn_id": "aws_default"}

    with DAG(f"athena_ops_{athena.suffix}", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:
        create_database = AthenaOperator(
            task_id="create_database",
            query=f"CREATE DATABASE IF NOT EXISTS {staging}",
            **{**common, "database": "default"},
        )
        create_table = AthenaOperator(
            task_id="create_table",
            **common,
            query=f"""
            CREATE EXTERNAL TABLE IF NOT EXISTS tweets (hashtag string, user_name string, polarity double)
            PARTITIONED BY (year string, month string, day string) STORED AS PARQUET
            LOCATION 's3://{athena.bucket}/tweets/'""",
        )
        repair = AthenaOperator(task_id="repair", query="MSCK REPAIR TABLE tweets", deferrable=True, **common)
        top_n = AthenaOperator(task_id="top_n", query=TOP_N, **common)
        report = AthenaOperator(
            task_id="report",
            deferrable=True,
            **common,
            query=f"""
            CREATE TABLE top_hashtags WITH (format = 'PARQUET',
              external_location = 's3://{athena.bucket}/reports/top_hashtags/') AS {TOP_N}""",
        )
        sense = AthenaSensor(
            task_id="sense_top_n",
            query_execution_id="{{ ti.xcom_pull(task_ids='top_n') }}",
            sleep_time=1,
            poke_interval=1,
            aws_conn_id="aws_default",
        )
        export = SqlToS3Operator(
            task_id="export_csv",
            sql_conn_id="athena_local",
            query=f"SELECT * FROM {staging}.top_hashtags ORDER BY tweets DESC, hashtag",
            s3_bucket=athena.bucket,
            s3_key="exports/top_hashtags.csv",
            replace=True,
            aws_conn_id="aws_default",
            file_format="csv",
            pd_kwargs={"index": False},
        )
        fail_deferred = AthenaOperator(
            task_id="fail_deferred", query="SELECT nope FROM tweets", deferrable=True, retries=0, **common
        )
        fail_polled = AthenaOperator(task_id="fail_polled", query="SELECT * FROM missing_table", retries=0, **common)
        chain(create_database, create_table, repair, top_n, report, sense, export, [fail_deferred, fail_polled])

    result = run_test_dag(dag)

    assert result.task_states == {
        "create_database": "success",
        "create_table": "success",
        "repair": "success",
        "top_n": "success",
        "report": "success",
        "sense_top_n": "success",
        "export_csv": "success",
        "fail_deferred": "failed",
        "fail_polled": "failed",
    }
    expected = expected_top_n(tweets("30"))
    top_n_id = result.xcom("top_n")
    rows = athena.rows(top_n_id)[1:]
    assert [(h, int(t), int(u)) for h, t, u, _ in rows] == [e[:3] for e in expected]
    assert athena.get(f"{athena.output}{top_n_id}.csv").decode().count("\n") == 11
    reported = athena.read_parquet_prefix("reports/top_hashtags/").to_pandas()
    assert list(reported.itertuples(index=False, name=None)) == [(h, t, u, pytest.approx(p)) for h, t, u, p in expected]
    exported = pd.read_csv(io.BytesIO(athena.get(f"s3://{athena.bucket}/exports/top_hashtags.csv")))
    assert list(exported.columns) == ["hashtag", "tweets", "users", "polarity"]
    assert [tuple(r) for r in exported[["hashtag", "tweets", "users"]].itertuples(index=False)] == [
        e[:3] for e in expected
    ]
    listed = athena.client.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
    described = athena.client.batch_get_query_execution(QueryExecutionIds=listed)["QueryExecutions"]
    reasons = {e["Query"]: e["Status"].get("StateChangeReason") for e in described if e["Query"].startswith("SELECT")}
    assert reasons["SELECT nope FROM tweets"].startswith("COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved")
    assert reasons["SELECT * FROM missing_table"] == (
        f"TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.{staging}.missing_table' does not exist"
    )
