"""toll_plaza: a day of generated toll transactions, landed in S3 and loaded into Redshift idempotently.

A Lambda generates the day's batch as strict JSON lines under ``landing/toll/dt=<date>/``; a crawler
catalogues the landing prefix; a Glue job types, deduplicates and quarantines the day's records and stages
them; the staged rows are copied into the day's staging table and, in one Redshift transaction, replace the
day's slice of ``toll_deliveries``; ``toll_table`` (each transaction as the landing day that delivered it first)
and the daily revenue aggregate are rebuilt for what changed, and checked against the job's report.

A rerun writes only what differs from the day's last load (the same file again writes nothing); the
``rebuild_day`` param applies the whole day again, to repair the tables after a change made outside the pipeline.

A transaction delivered again on another day (a booth re-sending a batch, the original generator's reused ids)
stays with the day that delivered it first, whatever the order of runs, reruns and backfills; a run says how
many of its transactions earlier days own and how many it owns that later days delivered again.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator
from airflow.sdk import DAG, Param, chain, task
from pipeline_kit.alerts import success_notifier
from pipeline_kit.defaults import dag_defaults
from pipeline_kit.glue import GlueJobRunOperator, read_job_report
from pipeline_kit.paths import sql_dir, sql_statements
from pipeline_kit.polling import poll_interval
from pipeline_kit.settings import RUN_DATE, RUN_DATE_EXPR, RUN_DATE_NODASH, PipelineSettings

PIPELINE = "toll_plaza"
SETTINGS = PipelineSettings(PIPELINE)
DAY_STAGE_TABLE = f"toll_stage_{RUN_DATE_NODASH}"
LANDING_PREFIX = "landing/toll"
STAGING_KEY = f"staging/toll/dt={RUN_DATE}/"
STAGING_URI = f"s3://{SETTINGS.staging_bucket}/{STAGING_KEY}"
REPORT_KEY = f"reports/toll/dt={RUN_DATE}/report.json"
# Column order of the staged CSV files, as the COPY lists them.
TOLL_COLUMNS = [
    "transaction_id",
    "transaction_date",
    "toll_booth",
    "vehicle_make",
    "vehicle_category",
    "transaction_amount",
    "landing_date",
]
# Redshift Serverless through the Data API, as the caller's IAM identity (no database password anywhere).
REDSHIFT = {
    "workgroup_name": SETTINGS.redshift_workgroup,
    "database": SETTINGS.redshift_database,
}

# What the run used on AWS, priced in its success alert (pipeline_kit.usage, pipeline_kit.cost).
RUN_COST = {
    "glue_jobs": {"transform_transactions": SETTINGS.transform_job},
    "lambda_functions": [SETTINGS.generator_function],
    "redshift_workgroups": [{"workgroup": SETTINGS.redshift_workgroup, "base_rpu": SETTINGS.redshift_base_rpu}],
}

GENERATOR_EVENT = (
    "{{ {"
    f'"date": {RUN_DATE_EXPR} | ds, "run_id": run_id, '
    '"records": params.records, "seed": params.seed, "duplicates": params.duplicates, '
    f'"bucket": {SETTINGS.expr("landing_bucket")}, "prefix": "{LANDING_PREFIX}"'
    "} | tojson }}"
)

# The crawler (landing/toll/ -> table toll; the original generator's *.json files are left to the Glue job) and
# the job are defined in deploy/cloudformation/toll_plaza.yaml; the DAG runs them by the names in its variable.
LANDING_CRAWLER = SETTINGS.landing_crawler
TRANSFORM_JOB = SETTINGS.transform_job


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


@task
def draw_revenue_chart(statement_results: list, staging_bucket: str, run_date: str) -> list[dict]:
    """Revenue per booth per day (the fortnight to the run's date), beside the staged data."""
    from datetime import date

    from pipeline_kit import figures
    from pipeline_kit.charts import save_chart

    values = [[next(iter(field.values())) for field in record] for record in statement_results[0]["Records"]]
    rows = [(date.fromisoformat(day), booth, float(revenue)) for day, booth, revenue in values]
    title = f"Toll revenue per booth per day, to {run_date}"
    return [
        {
            "title": title,
            **save_chart(
                figures.booth_revenue(rows),
                bucket=staging_bucket,
                title=title,
                key_prefix=f"charts/toll/dt={run_date}/revenue_per_booth",
            ),
        }
    ]


@task(on_success_callback=[success_notifier(PIPELINE, charts_task="draw_revenue_chart", cost_spec=RUN_COST)])
def verify_loaded_rows(check_results: list, report: dict) -> dict:
    """Fail the run when the day's rows break a rule or disagree with what the Glue job staged; report how the
    day's transactions are shared with other days and what the apply changed in the day's slice."""
    from airflow.sdk.exceptions import AirflowFailException

    result = check_results[0]
    names = [column["name"] for column in result["ColumnMetadata"]]
    values = [next(iter(field.values())) if not field.get("isNull") else None for field in result["Records"][0]]
    facts = {name: int(value or 0) for name, value in zip(names, values, strict=True)}
    problems = []
    if facts["delivered"] != report["loaded"]:
        problems.append(
            f"the day's slice holds {facts['delivered']} transactions, but the job staged {report['loaded']}"
        )
    if facts["missing_from_table"]:
        problems.append(f"{facts['missing_from_table']} delivered transactions are missing from toll_table")
    if facts["rows_for_date"] != facts["owned"]:
        problems.append(
            f"{facts['rows_for_date']} rows in toll_table for the date, but the day owns {facts['owned']} "
            "of its deliveries"
        )
    if facts["non_positive_amounts"]:
        problems.append(f"{facts['non_positive_amounts']} rows with an amount not above zero")
    if facts["duplicate_keys"]:
        problems.append(f"{facts['duplicate_keys']} duplicate transaction ids")
    if facts["aggregated_for_date"] != facts["transactions_on_date"]:
        problems.append(
            f"daily aggregate counts {facts['aggregated_for_date']} transactions, "
            f"the table has {facts['transactions_on_date']}"
        )
    slice_changes = {key: facts[key] for key in ("added", "updated", "removed", "unchanged")}
    if slice_changes["added"] + slice_changes["updated"] + slice_changes["unchanged"] != facts["delivered"]:
        problems.append(f"the apply logged {slice_changes} for a slice of {facts['delivered']} transactions")
    if problems:
        raise AirflowFailException("toll_table checks failed: " + "; ".join(problems))
    return {
        **{key: report[key] for key in ("run_date", "read", "loaded", "quarantined", "duplicates")},
        **{key: facts[key] for key in ("owned", "owned_by_earlier_days", "also_delivered_later")},
        "slice_changes": slice_changes,
        "quarantine_reasons": report.get("quarantine_reasons", {}),
    }


with DAG(
    dag_id=PIPELINE,
    description="Generated toll transactions: Lambda -> S3 -> Glue -> Redshift, idempotent per day",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # Late (an alert) when not done in time: minutes of work; an hour means something is stuck.
    **dag_defaults(PIPELINE, must_finish_within=timedelta(hours=1)),
    template_searchpath=[sql_dir()],
    params={
        "records": Param(100, type="integer", minimum=1, description="transactions the generator writes"),
        "seed": Param(0, type="integer", description="generator seed; same date and seed, same batch"),
        "duplicates": Param(0, type="integer", minimum=0, description="records the generator sends twice"),
        "rebuild_day": Param(
            False,
            type="boolean",
            description="apply every transaction of the day again, not only what changed since its last load: "
            "repairs toll_table and the aggregate after a change made outside the pipeline",
        ),
    },
    tags=["toll_plaza", "lambda", "glue", "redshift"],
    doc_md=__doc__,
) as dag:
    generate_transactions = LambdaInvokeFunctionOperator(
        task_id="generate_transactions",
        function_name=SETTINGS.generator_function,
        payload=GENERATOR_EVENT,
        invocation_type="RequestResponse",
    )
    landed = check_generator_payload(generate_transactions.output)

    wait_for_landing = S3KeySensor(
        task_id="wait_for_landing",
        bucket_key="s3://{{ ti.xcom_pull(task_ids='check_generator_payload')['bucket'] }}/"
        "{{ ti.xcom_pull(task_ids='check_generator_payload')['key'] }}",
        deferrable=True,
        poke_interval=poll_interval(5),
        timeout=600,
    )

    crawl_landing = GlueCrawlerRunOperator(
        task_id="crawl_landing", crawler_name=LANDING_CRAWLER, poll_interval=poll_interval(5)
    )

    transform_transactions = GlueJobRunOperator(
        task_id="transform_transactions",
        job_name=TRANSFORM_JOB,
        script_args={
            "--run_date": RUN_DATE,
            "--landing_uri": f"s3://{SETTINGS.landing_bucket}/{LANDING_PREFIX}/dt={RUN_DATE}/",
            "--staging_uri": STAGING_URI,
            "--quarantine_uri": f"s3://{SETTINGS.staging_bucket}/quarantine/toll/dt={RUN_DATE}/",
            "--report_uri": f"s3://{SETTINGS.staging_bucket}/{REPORT_KEY}",
            "--staging_format": "csv",
        },
        job_poll_interval=poll_interval(5),
    )
    job_report = read_job_report(SETTINGS.staging_bucket, REPORT_KEY)

    create_tables = RedshiftDataOperator(
        task_id="create_tables",
        sql=[
            "toll_plaza/create_toll_table.sql",
            "toll_plaza/create_toll_deliveries.sql",
            "toll_plaza/create_daily_booth_revenue.sql",
            "toll_plaza/create_toll_loads.sql",
            "toll_plaza/create_day_stage.sql",
        ],
        poll_interval=poll_interval(2),
        **REDSHIFT,
    )

    stage_deliveries = S3ToRedshiftOperator(
        task_id="stage_deliveries",
        schema="public",
        table=DAY_STAGE_TABLE,
        s3_bucket=SETTINGS.staging_bucket,
        s3_key=STAGING_KEY,
        column_list=TOLL_COLUMNS,
        copy_options=["CSV", "IGNOREHEADER 1", "DATEFORMAT 'YYYY-MM-DD'"],
        method="REPLACE",
        redshift_conn_id="aws_default",
        redshift_data_api_kwargs={**REDSHIFT, "poll_interval": poll_interval(2)},
    )

    apply_deliveries = RedshiftDataOperator(
        task_id="apply_deliveries",
        sql=sql_statements("toll_plaza/apply_deliveries.sql"),
        poll_interval=poll_interval(2),
        **REDSHIFT,
    )

    check_loaded_rows = RedshiftDataOperator(
        task_id="check_loaded_rows",
        sql="toll_plaza/check_loaded_rows.sql",
        return_sql_result=True,
        poll_interval=poll_interval(2),
        **REDSHIFT,
    )
    read_booth_revenue = RedshiftDataOperator(
        task_id="read_booth_revenue",
        sql="toll_plaza/booth_revenue_for_chart.sql",
        return_sql_result=True,
        poll_interval=poll_interval(2),
        **REDSHIFT,
    )
    revenue_chart = draw_revenue_chart(read_booth_revenue.output, SETTINGS.staging_bucket, RUN_DATE)
    verified = verify_loaded_rows(check_loaded_rows.output, job_report)

    chain(
        # generate and land
        generate_transactions,
        landed,
        wait_for_landing,
        # catalogue, transform, stage
        crawl_landing,
        transform_transactions,
        job_report,
        # stage the day's deliveries, apply them (slice, owners, aggregate) in one transaction, check
        create_tables,
        stage_deliveries,
        apply_deliveries,
        check_loaded_rows,
        # chart the revenue, then report
        read_booth_revenue,
        revenue_chart,
        verified,
    )
