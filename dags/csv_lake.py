"""csv_lake: the day's billing CSV files in the raw bucket become a catalogued, partitioned Parquet table.

Replaces the original's S3-event Lambda, crawler-success EventBridge rule and job-starting Lambda with one
DAG run per day: wait for ``billing/dt=<date>/*.csv`` in the raw bucket, crawl the raw prefix, convert the
day's files to Snappy Parquet (typed, deduplicated, bad rows quarantined with their reason) in partition
``dt=<date>`` of the processed bucket, crawl the processed prefix, and prove the partition is in the
catalog and holds Parquet files. Reruns and backfills replace only their own partition.

Outcomes: success alert with the counts; failure alert when a step fails, including when the share of
rejected rows is above ``max_reject_rate`` (the job then leaves the partition as it was). A day whose
files hold no data rows (empty or header-only) writes no partition and ends in a ``[NO_DATA]`` alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.sensors.glue_catalog_partition import GlueCatalogPartitionSensor
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import DAG, chain, task
from pipeline_kit.alerts import success_notifier
from pipeline_kit.defaults import dag_defaults
from pipeline_kit.glue import GlueJobRunOperator, read_job_report
from pipeline_kit.polling import poll_interval
from pipeline_kit.settings import RUN_DATE, PipelineSettings

PIPELINE = "csv_lake"
SETTINGS = PipelineSettings(PIPELINE)
DATASET = "billing"
RAW_BUCKET = SETTINGS.raw_bucket
PROCESSED_BUCKET = SETTINGS.processed_bucket
GLUE_DATABASE = SETTINGS.glue_database
PROCESSED_TABLE = DATASET
REPORT_KEY = f"reports/{DATASET}/dt={RUN_DATE}/report.json"

# The crawlers (raw billing/ prefix -> raw_billing; processed billing/ prefix -> billing) and the job are defined
# in deploy/cloudformation/csv_lake.yaml; the DAG runs them by the names in its variable.
RAW_CRAWLER = SETTINGS.raw_crawler
PROCESSED_CRAWLER = SETTINGS.processed_crawler
CONVERT_JOB = SETTINGS.convert_job
# What the run used on AWS, priced in its success alert (pipeline_kit.usage, pipeline_kit.cost).
RUN_COST = {"glue_jobs": {"convert_to_parquet": CONVERT_JOB}}
SUMMARY_FIELDS = (
    "run_date",
    "files",
    "read",
    "loaded",
    "quarantined",
    "duplicates",
    "quarantine_reasons",
    "reject_rate",
)


@task.branch
def route_by_rows(report: dict) -> str:
    """Rows loaded: catalogue the new partition. None at all: report the empty delivery and stop."""
    return "crawl_processed" if report["loaded"] else "report_empty_delivery"


@task(on_success_callback=[success_notifier(PIPELINE, event="no_data", cost_spec=RUN_COST)])
def report_empty_delivery(report: dict, database: str, table: str) -> dict:
    """The day's files hold no data rows (empty or header-only): no partition, a [NO_DATA] alert. The job removed
    any earlier data of the day, so a catalogued partition of it (from a rerun) goes too."""
    from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook

    glue = GlueCatalogHook().get_conn()
    try:
        glue.delete_partition(DatabaseName=database, TableName=table, PartitionValues=[report["run_date"]])
        partition_removed = True
    except glue.exceptions.EntityNotFoundException:
        partition_removed = False
    print(
        f"no data rows in {report['files']}: no partition for dt={report['run_date']} "
        f"({'removed the catalogued one' if partition_removed else 'none was catalogued'})"
    )
    return {**{field: report[field] for field in SUMMARY_FIELDS}, "catalog_partition_removed": partition_removed}


@task
def draw_partition_chart(bucket: str, run_date: str) -> list[dict]:
    """Rows loaded and quarantined per partition, from every day's job report, beside the lake."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from pipeline_kit import figures
    from pipeline_kit.charts import save_chart
    from pipeline_kit.glue import load_job_report

    report_keys = [key for key in S3Hook().list_keys(bucket, f"reports/{DATASET}/") if key.endswith("/report.json")]
    reports = [load_job_report(bucket, key) for key in report_keys]
    rows = [(report["run_date"], report["loaded"], report["quarantined"]) for report in reports]
    title = f"{DATASET}: rows loaded and quarantined per partition (as of dt={run_date})"
    return [
        {
            "title": title,
            **save_chart(
                figures.partition_rows(rows),
                bucket=bucket,
                title=title,
                key_prefix=f"charts/{DATASET}/dt={run_date}/rows_per_partition",
            ),
        }
    ]


@task(on_success_callback=[success_notifier(PIPELINE, charts_task="draw_partition_chart", cost_spec=RUN_COST)])
def verify_partition(report: dict, database: str, table: str) -> dict:
    """The catalogued partition points at Parquet files and the job wrote rows into it."""
    from airflow.providers.amazon.aws.hooks.glue_catalog import GlueCatalogHook
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.sdk.exceptions import AirflowFailException

    partition = GlueCatalogHook().get_partition(database, table, [report["run_date"]])
    location = partition["StorageDescriptor"]["Location"]
    bucket, prefix = S3Hook.parse_s3_url(location)
    parquet_files = [key for key in S3Hook().list_keys(bucket, prefix) if key.endswith(".parquet")]
    if not parquet_files or report["loaded"] <= 0:
        raise AirflowFailException(
            f"partition {location} holds {len(parquet_files)} Parquet files and the job "
            f"reports {report['loaded']} rows loaded"
        )
    return {
        **{field: report[field] for field in SUMMARY_FIELDS},
        "partition": location,
        "parquet_files": len(parquet_files),
    }


with DAG(
    dag_id=PIPELINE,
    description="Billing CSV files -> catalogued Parquet lake partitioned by day, bad rows quarantined",
    schedule="@daily",
    start_date=datetime(2023, 5, 1),  # the original delivery was May 2023; backfills may reach back to it
    catchup=False,
    # Each run owns its day's partition: a run waiting for its files must not hold up a manual run or a rerun
    # of another day. Two runs crawling at once: the second crawl fails (already running) and is retried.
    max_active_runs=3,
    # Late (an alert) when not done in time: the files may come until the sensor gives up (12 h), then minutes of work.
    **dag_defaults(PIPELINE, must_finish_within=timedelta(hours=13)),
    tags=["csv_lake", "s3", "glue"],
    doc_md=__doc__,
) as dag:
    wait_for_csv = S3KeySensor(
        task_id="wait_for_csv",
        bucket_name=RAW_BUCKET,
        bucket_key=f"{DATASET}/dt={RUN_DATE}/*.csv",
        wildcard_match=True,
        deferrable=True,
        poke_interval=poll_interval(60),
        timeout=12 * 60 * 60,  # files arrive during the day; past that the day is late and alerts
    )

    crawl_raw = GlueCrawlerRunOperator(task_id="crawl_raw", crawler_name=RAW_CRAWLER, poll_interval=poll_interval(5))

    convert_to_parquet = GlueJobRunOperator(
        task_id="convert_to_parquet",
        job_name=CONVERT_JOB,
        script_args={
            "--run_date": RUN_DATE,
            "--raw_uri": f"s3://{RAW_BUCKET}/{DATASET}/dt={RUN_DATE}/",
            "--output_uri": f"s3://{PROCESSED_BUCKET}/{DATASET}/",
            "--quarantine_uri": f"s3://{PROCESSED_BUCKET}/quarantine/{DATASET}/dt={RUN_DATE}/",
            "--report_uri": f"s3://{PROCESSED_BUCKET}/{REPORT_KEY}",
            "--max_reject_rate": SETTINGS.max_reject_rate,
        },
        job_poll_interval=poll_interval(5),
        verbose=True,  # the script's output and errors in the task log
    )
    job_report = read_job_report(PROCESSED_BUCKET, REPORT_KEY)
    route = route_by_rows(job_report)
    empty_delivery = report_empty_delivery(job_report, GLUE_DATABASE, PROCESSED_TABLE)

    crawl_processed = GlueCrawlerRunOperator(
        task_id="crawl_processed", crawler_name=PROCESSED_CRAWLER, poll_interval=poll_interval(5)
    )

    wait_for_partition = GlueCatalogPartitionSensor(
        task_id="wait_for_partition",
        database_name=GLUE_DATABASE,
        table_name=PROCESSED_TABLE,
        expression=f"dt='{RUN_DATE}'",
        poke_interval=poll_interval(10),
        timeout=10 * 60,
    )
    partition_chart = draw_partition_chart(PROCESSED_BUCKET, RUN_DATE)
    verified = verify_partition(job_report, GLUE_DATABASE, PROCESSED_TABLE)

    chain(
        # wait for the day's files and catalogue them
        wait_for_csv,
        crawl_raw,
        # convert, then stop here if the files held no rows
        convert_to_parquet,
        job_report,
        route,
        [crawl_processed, empty_delivery],
    )
    chain(
        # catalogue the new partition, chart the lake's partitions, prove the new one holds data
        crawl_processed,
        wait_for_partition,
        partition_chart,
        verified,
    )
