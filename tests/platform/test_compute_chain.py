"""One DAG through every local compute extension with the provider's own operators:
Lambda writes data -> a crawler catalogs it -> a Glue job aggregates it -> Redshift Data COPYs and queries it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from deploy.lambda_zips import zip_folder
from local_platform.aws.compute.redshift_data import standin_database_name
from tests.helpers.platform import ensure_bucket, ensure_role
from tests.platform.compute_dags import run_test_dag

pytestmark = [pytest.mark.dag_run, pytest.mark.spark]

FIXTURES = Path(__file__).parent / "fixtures"
GLUE_IO = Path(__file__).resolve().parents[2] / "include" / "glue" / "glue_io.py"
ROLE = "arn:aws:iam::123456789012:role/compute-chain-test"
CLUSTER = "chain-cluster"


def test_lambda_crawler_glue_job_and_redshift_data_chain_runs_for_real(
    local_aws, airflow_settings, postgres_server_dsn
):
    import pendulum
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
    from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
    from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
    from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
    from airflow.sdk import DAG, chain

    token = uuid.uuid4().hex[:8]
    bucket, function = f"chain-{token}", f"writes-sales-{token}"
    ensure_role(local_aws, ROLE)
    ensure_bucket(local_aws, bucket)
    # The crawler exists before the run, as the stacks create it; the DAG only runs it.
    glue = local_aws.client("glue")
    glue.create_database(DatabaseInput={"Name": f"chain_{token}"})
    glue.create_crawler(
        Name=f"chain-{token}",
        Role=ROLE,
        DatabaseName=f"chain_{token}",
        Targets={"S3Targets": [{"Path": f"s3://{bucket}/sales/"}]},
    )
    s3 = local_aws.client("s3")
    s3.upload_file(str(FIXTURES / "glue" / "spark_totals.py"), bucket, "scripts/spark_totals.py")
    s3.upload_file(str(GLUE_IO), bucket, "scripts/glue_io.py")
    local_aws.client("lambda").create_function(
        FunctionName=function,
        Runtime="python3.11",
        Role=ROLE,
        Handler="writes_sales.handler",
        Timeout=30,
        Code={"ZipFile": zip_folder(FIXTURES / "lambda" / "writes_sales")},
        Environment={"Variables": {"BUCKET": bucket}},
    )
    rows = [["fruit", 3], ["veg", 5], ["fruit", 4], ["grain", 10]]
    redshift = {"cluster_identifier": CLUSTER, "database": "dev", "db_user": "awsuser", "poll_interval": 1}

    with DAG(f"compute_chain_{token}", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
        write_sales = LambdaInvokeFunctionOperator(
            task_id="write_sales",
            function_name=function,
            payload=json.dumps({"prefix": "sales/dt=2024-01-01", "rows": rows}),
        )
        crawl_sales = GlueCrawlerRunOperator(task_id="crawl_sales", crawler_name=f"chain-{token}", poll_interval=1)
        aggregate = GlueJobOperator(
            task_id="aggregate",
            job_name=f"chain-{token}",
            script_location=f"s3://{bucket}/scripts/spark_totals.py",
            s3_bucket=bucket,
            iam_role_arn=ROLE,
            job_poll_interval=2,
            create_job_kwargs={
                "GlueVersion": "5.0",
                "DefaultArguments": {"--extra-py-files": f"s3://{bucket}/scripts/glue_io.py"},
            },
            script_args={
                "--input_uri": f"s3://{bucket}/sales/dt=2024-01-01/sales.csv",
                "--output_uri": f"s3://{bucket}/totals/",
                "--report_uri": f"s3://{bucket}/report.json",
            },
        )
        load_totals = RedshiftDataOperator(
            task_id="load_totals",
            **redshift,
            sql=[
                "CREATE TABLE IF NOT EXISTS totals (category VARCHAR(20), total BIGINT) DISTSTYLE ALL SORTKEY (category)",
                "TRUNCATE totals",
                f"COPY totals FROM 's3://{bucket}/totals/' IAM_ROLE '{ROLE}' FORMAT AS PARQUET",
            ],
        )
        query_totals = RedshiftDataOperator(
            task_id="query_totals",
            **redshift,
            return_sql_result=True,
            sql="SELECT category, total FROM totals ORDER BY category",
        )
        chain(write_sales, crawl_sales, aggregate, load_totals, query_totals)

    result = run_test_dag(dag)

    assert result.state == "success", result.task_states
    assert result.xcom("write_sales") == {"bucket": bucket, "key": "sales/dt=2024-01-01/sales.csv", "rows": 4}
    table = local_aws.client("glue").get_table(DatabaseName=f"chain_{token}", Name="sales")["Table"]
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("category", "string"),
        ("amount", "bigint"),
    ]
    assert [key["Name"] for key in table["PartitionKeys"]] == ["dt"]
    import psycopg2

    from local_platform.postgres import database_dsn

    dsn = database_dsn(postgres_server_dsn, standin_database_name(local_aws.namespace, CLUSTER, "dev"))
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT category, total FROM totals ORDER BY category")
        assert cur.fetchall() == [("fruit", 7), ("grain", 10), ("veg", 5)]
    conn.close()
