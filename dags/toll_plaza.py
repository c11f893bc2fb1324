"""toll_plaza: a day of generated toll transactions, landed in S3 and loaded into Redshift idempotently.

A Lambda generates the day's batch as strict JSON lines under ``landing/toll/dt=<date>/``; a crawler
catalogues the landing prefix; a Glue job types, deduplicates and quarantines the day's records and stages
them; the staged rows are upserted into ``toll_table`` through the Redshift Data API; the daily revenue
aggregate is refreshed and the loaded rows are checked against the job's report.
"""

from __future__ import annotations

import json
from datetime import datetime

from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator
from airflow.sdk import DAG, Param, chain, task
from pipeline_kit.alerts import success_notifier
from pipeline_kit.defaults import default_task_args
from pipeline_kit.glue import GlueJobRunOperator, read_job_report
from pipeline_kit.paths import sql_dir

PIPELINE = "toll_plaza"
CONFIG = "var.json.toll_plaza"
RUN_DATE = "{{ (logical_date or dag_run.run_after) | ds }}"
LANDING_PREFIX = "landing/toll"
STAGING_KEY = f"staging/toll/dt={RUN_DATE}/"
STAGING_URI = f"s3://{{{{ {CONFIG}.staging_bucket }}}}/{STAGING_KEY}"
REPORT_KEY = f"reports/toll/dt={RUN_DATE}/report.json"
# Column order of the staged CSV files and of public.toll_table.
TOLL_COLUMNS = ["transaction_id", "transaction_date", "toll_booth", "vehicle_make", "vehicle_category",
                "transaction_amount", "landing_date"]
# Redshift Serverless through the Data API, as the caller's IAM identity (no database password anywhere).
REDSHIFT = {
    "workgroup_name": f"{{{{ {CONFIG}.redshift_workgroup }}}}",
    "database": f"{{{{ {CONFIG}.redshift_database }}}}",
}

GENERATOR_EVENT = (
    "{{ {"
    '"date": (logical_date or dag_run.run_after) | ds, "run_id": run_id, '
    '"records": params.records, "seed": params.seed, "duplicates": params.duplicates, '
    f'"bucket": {CONFIG}.landing_bucket, "prefix": "{LANDING_PREFIX}"'
    "} | tojson }}"
)

# The crawler (landing/toll/ -> table toll; the original generator's *.json files are left to the Glue job) and
# the job are defined in deploy/cloudformation/toll_plaza.yaml; the DAG runs them by the names in its variable.
LANDING_CRAWLER = f"{{{{ {CONFIG}.landing_crawler }}}}"
TRANSFORM_JOB = f"{{{{ {CONFIG}.transform_job }}}}"


@task
def check_generator_payload(payload: str) -> dict:
    """The Lambda's answer names the object it wrote and how many records are in it."""
    from airflow.sdk.exceptions import AirflowFailException

    result = json.loads(payload)
    missing = [field for field in ("bucket", "key", "count") if not result.get(field)]
    if missing:
        raise AirflowFailException(f"generator payload lacks {missing}: {payload}")
    if not isinstance(result["count"], int) or result["count"] <= 0:
        raise AirflowFailException(f"generator wrote no records: {payload}")
    return result


@task(on_success_callback=[success_notifier(PIPELINE)])
def verify_loaded_rows(check_results: list, report: dict) -> dict:
    """Fail the run when the loaded rows break a rule or disagree with what the Glue job staged."""
    from airflow.sdk.exceptions import AirflowFailException

    result = check_results[0]
    names = [column["name"] for column in result["ColumnMetadata"]]
    values = [next(iter(field.values())) if not field.get("isNull") else None for field in result["Records"][0]]
    facts = {name: int(value or 0) for name, value in zip(names, values, strict=True)}
    problems = []
    if facts["null_keys"]:
        problems.append(f"{facts['null_keys']} rows without transaction_id")
    if facts["non_positive_amounts"]:
        problems.append(f"{facts['non_positive_amounts']} rows with an amount not above zero")
    if facts["duplicate_keys"]:
        problems.append(f"{facts['duplicate_keys']} duplicate transaction ids")
    if facts["rows_for_date"] != report["staged"]:
        problems.append(f"{facts['rows_for_date']} rows loaded for the date, but the job staged {report['staged']}")
    if facts["aggregated_for_date"] != facts["transactions_on_date"]:
        problems.append(f"daily aggregate counts {facts['aggregated_for_date']} transactions, "
                        f"the table has {facts['transactions_on_date']}")
    if problems:
        raise AirflowFailException("toll_table checks failed: " + "; ".join(problems))
    return {**{key: report[key] for key in ("read", "staged", "quarantined", "duplicates")},
            "loaded_for_date": facts["rows_for_date"], "quarantine_reasons": report.get("quarantine_reasons", {})}


with DAG(
    dag_id=PIPELINE,
    description="Generated toll transactions: Lambda -> S3 -> Glue -> Redshift, idempotent per day",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_task_args(PIPELINE),
    template_searchpath=[sql_dir()],
    params={
        "records": Param(100, type="integer", minimum=1, description="transactions the generator writes"),
        "seed": Param(0, type="integer", description="generator seed; same date and seed, same batch"),
        "duplicates": Param(0, type="integer", minimum=0, description="records the generator sends twice"),
    },
    tags=["toll_plaza", "lambda", "glue", "redshift"],
    doc_md=__doc__,
) as dag:
    generate_transactions = LambdaInvokeFunctionOperator(
        task_id="generate_transactions",
        function_name=f"{{{{ {CONFIG}.generator_function }}}}",
        payload=GENERATOR_EVENT,
        invocation_type="RequestResponse",
    )
    landed = check_generator_payload(generate_transactions.output)

    wait_for_landing = S3KeySensor(
        task_id="wait_for_landing",
        bucket_key="s3://{{ ti.xcom_pull(task_ids='check_generator_payload')['bucket'] }}/"
                   "{{ ti.xcom_pull(task_ids='check_generator_payload')['key'] }}",
        deferrable=True,
        poke_interval=5,
        timeout=600,
    )

    crawl_landing = GlueCrawlerRunOperator(task_id="crawl_landing", crawler_name=LANDING_CRAWLER, poll_interval=5)

    transform_transactions = GlueJobRunOperator(
        task_id="transform_transactions",
        job_name=TRANSFORM_JOB,
        script_args={
            "--run_date": RUN_DATE,
            "--landing_uri": f"s3://{{{{ {CONFIG}.landing_bucket }}}}/{LANDING_PREFIX}/dt={RUN_DATE}/",
            "--staging_uri": STAGING_URI,
            "--quarantine_uri": f"s3://{{{{ {CONFIG}.staging_bucket }}}}/quarantine/toll/dt={RUN_DATE}/",
            "--report_uri": f"s3://{{{{ {CONFIG}.staging_bucket }}}}/{REPORT_KEY}",
            "--staging_format": "csv",
        },
        job_poll_interval=5,
    )
    job_report = read_job_report(f"{{{{ {CONFIG}.staging_bucket }}}}", REPORT_KEY)

    create_tables = RedshiftDataOperator(
        task_id="create_tables",
        sql=["toll_plaza/create_toll_table.sql", "toll_plaza/create_daily_booth_revenue.sql"],
        poll_interval=2,
        **REDSHIFT,
    )

    load_toll_table = S3ToRedshiftOperator(
        task_id="load_toll_table",
        schema="public",
        table="toll_table",
        s3_bucket=f"{{{{ {CONFIG}.staging_bucket }}}}",
        s3_key=STAGING_KEY,
        column_list=TOLL_COLUMNS,
        copy_options=["CSV", "IGNOREHEADER 1", "DATEFORMAT 'YYYY-MM-DD'"],
        method="UPSERT",
        upsert_keys=["transaction_id"],
        redshift_conn_id="aws_default",
        redshift_data_api_kwargs={**REDSHIFT, "poll_interval": 2},
    )

    refresh_daily_revenue = RedshiftDataOperator(
        task_id="refresh_daily_revenue",
        sql=["toll_plaza/delete_daily_booth_revenue.sql", "toll_plaza/insert_daily_booth_revenue.sql"],
        poll_interval=2,
        **REDSHIFT,
    )

    check_loaded_rows = RedshiftDataOperator(
        task_id="check_loaded_rows",
        sql="toll_plaza/check_loaded_rows.sql",
        return_sql_result=True,
        poll_interval=2,
        **REDSHIFT,
    )
    verified = verify_loaded_rows(check_loaded_rows.output, job_report)

    chain(
        # generate and land
        generate_transactions, landed, wait_for_landing,
        # catalogue, transform, stage
        crawl_landing, transform_transactions, job_report,
        # load, aggregate, check
        create_tables, load_toll_table, refresh_daily_revenue, check_loaded_rows, verified,
    )
