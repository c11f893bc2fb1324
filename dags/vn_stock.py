"""vn_stock: the VN-Index daily history from cafef.vn, scraped, cleaned and upserted into Aurora PostgreSQL.

Replaces the original's EventBridge rule, Fargate-hosted Flask scraper, start/stop Lambdas and two Glue jobs
(the second deleted the day in Aurora and appended it, not atomically) with one DAG run per trading day,
after the close in Asia/Ho_Chi_Minh:

start the Aurora cluster (stopped between runs to save cost) -> scrape the day's row with headless Chromium
(Lambda) -> clean it with a Glue PySpark job -> upsert it into ``vn_stock.daily_index`` in one transaction ->
data-quality checks -> stop the cluster, whatever happened before (a teardown, so it never hides a failure).

A day the site answers "no matching results" (a holiday) is no failure: the scrape reports ``no_trading``,
nothing is cleaned or loaded, and a ``[NO_TRADING]`` message goes to the alerts topic. Ranges: trigger a run
with the ``date_from``/``date_to`` params (one cluster start for the whole range), or
``airflow backfill create --dag-id vn_stock --from-date ... --to-date ...`` (one run per trading day).
Reruns are idempotent: the clean partitions of the run's dates are replaced and the upsert rewrites no
row that did not change.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pendulum
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.operators.rds import RdsStartDbOperator, RdsStopDbOperator
from airflow.providers.common.sql.operators.sql import (
    SQLCheckOperator,
    SQLExecuteQueryOperator,
    SQLTableCheckOperator,
)
from airflow.sdk import DAG, Param, TriggerRule, chain, task
from airflow.timetables.trigger import CronTriggerTimetable
from pipeline_kit.alerts import success_notifier
from pipeline_kit.defaults import dag_defaults
from pipeline_kit.glue import GlueJobRunOperator, read_job_report
from pipeline_kit.paths import sql_dir
from pipeline_kit.polling import poll_interval
from pipeline_kit.settings import RUN_DATE_EXPR, PipelineSettings

PIPELINE = "vn_stock"
SETTINGS = PipelineSettings(PIPELINE)
MARKET_TZ = "Asia/Ho_Chi_Minh"
AURORA_CONN = "aurora_vn_stock"
TABLE = "vn_stock.daily_index"
RAW_BUCKET = SETTINGS.raw_bucket
AURORA_CLUSTER = SETTINGS.aurora_cluster

# The trading day of a scheduled run is its logical date on the exchange's clock (22:00 ICT = 15:00 UTC).
RUN_DAY = f"{RUN_DATE_EXPR}.in_timezone('{MARKET_TZ}').strftime('%Y-%m-%d')"
DATE_FROM = f"(params.date_from or {RUN_DAY})"
DATE_TO = f"(params.date_to or params.date_from or {RUN_DAY})"
RUN_RANGE = f"{{{{ {DATE_FROM} }}}}_{{{{ {DATE_TO} }}}}"
SCRAPE_EVENT = f"{{{{ {{'date_from': {DATE_FROM}, 'date_to': {DATE_TO}, 'source_url': {SETTINGS.expr('source_url')}}} | tojson }}}}"
CLEAN_URI = f"s3://{RAW_BUCKET}/clean/vn_stock/"
REPORT_KEY = f"reports/vn_stock/{RUN_RANGE}/report.json"
REJECTS_URI = f"s3://{RAW_BUCKET}/rejects/vn_stock/{RUN_RANGE}/"

# The cleaning job is defined in deploy/cloudformation/vn_stock.yaml; the DAG runs it by the name in its variable.
CLEAN_JOB = SETTINGS.clean_job
# What the run used on AWS, priced in its success alert (pipeline_kit.usage, pipeline_kit.cost).
RUN_COST = {
    "glue_jobs": {"clean_prices": CLEAN_JOB},
    "lambda_functions": [SETTINGS.scraper_function],
    "aurora_clusters": [AURORA_CLUSTER],
}
TABLE_CHECKS = {
    "one_row_per_trading_date": {"check_statement": "COUNT(*) = COUNT(DISTINCT trading_date)"},
    "prices_positive": {"check_statement": "MIN(LEAST(open_price, high_price, low_price, close_price)) > 0"},
    "high_not_below_low": {"check_statement": "COUNT(*) FILTER (WHERE high_price < low_price) = 0"},
}


@task
def read_scrape_result(payload: str, raw_bucket: str) -> dict:
    """The scraper's answer, checked: ``ok`` with its raw files, or ``no_trading``; anything else fails."""
    from airflow.sdk.exceptions import AirflowFailException

    result = json.loads(payload)
    if result.get("status") == "ok" and result.get("keys"):
        return {**result, "raw_uris": ",".join(f"s3://{raw_bucket}/{key}" for key in result["keys"])}
    if result.get("status") == "no_trading":
        return result
    raise AirflowFailException(f"unexpected scraper result: {payload}")


@task.branch
def route_by_trading(result: dict) -> str:
    """Rows scraped: clean and load them. A day without trading: report it and load nothing."""
    return "clean_prices" if result["status"] == "ok" else "report_no_trading"


@task(on_success_callback=[success_notifier(PIPELINE, event="no_trading", cost_spec=RUN_COST)])
def report_no_trading(result: dict) -> dict:
    """The site has no row for the requested days (weekend or holiday): an informational message only."""
    return {"date_from": result["date_from"], "date_to": result["date_to"], "rows": 0}


@task
def confirm_no_rejects(report: dict, rejects_uri: str) -> dict:
    """The good rows are loaded and checked by now; a rejected row still fails the run, naming where the rejects
    and their reasons are (the site changed or sent something odd: a person should look)."""
    from airflow.sdk.exceptions import AirflowFailException

    if report["quarantined"]:
        raise AirflowFailException(
            f"{report['quarantined']} scraped row(s) rejected and not loaded ({report['quarantine_reasons']}); "
            f"they are in {rejects_uri}. The other {report['loaded']} row(s) were loaded."
        )
    return report


@task
def load_into_aurora(report: dict, run_day: str) -> dict:
    """Upsert the clean partitions of the report's dates into the table in one transaction (streamed COPY into
    staging, then a MERGE on trading_date that rewrites only changed rows)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from pipeline_kit.s3_to_postgres import Target, load_csv, s3_chunks

    s3 = S3Hook()
    bucket, prefix = S3Hook.parse_s3_url(report["clean_uri"])
    keys = [
        key
        for day in report["trading_dates"]
        for key in s3.list_keys(bucket, f"{prefix.rstrip('/')}/dt={day}/")
        if key.endswith(".csv")
    ]
    conn = PostgresHook(postgres_conn_id=AURORA_CONN).get_conn()
    try:
        # The clean files' header names the table's columns (vn_stock_clean.CLEAN_COLUMNS), typed as its DDL says.
        return load_csv(
            conn,
            s3_chunks(s3, bucket, keys),
            target=Target(TABLE, None, ["trading_date"]),
            source_key=report["clean_uri"],
            logical_date=run_day,
            max_reject_rate=0.0,
            log=logging.getLogger("airflow.task"),
        )
    finally:
        conn.close()


@task
def draw_index_chart(raw_bucket: str, date_from: str, date_to: str) -> list[dict]:
    """The index close and volume over the loaded days and the month before them, beside the clean data."""
    from datetime import date

    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from pipeline_kit import figures
    from pipeline_kit.charts import save_chart

    rows = PostgresHook(postgres_conn_id=AURORA_CONN).get_records(
        f"SELECT trading_date, close_price, matched_volume FROM {TABLE} WHERE trading_date "
        "BETWEEN LEAST(%(date_from)s::date, %(date_to)s::date - 30) AND %(date_to)s::date ORDER BY trading_date",
        parameters={"date_from": date_from, "date_to": date_to},
    )
    title = f"VN-Index close and matched volume (loaded {date_from} to {date_to})"
    figure = figures.index_close_volume(rows, loaded=(date.fromisoformat(date_from), date.fromisoformat(date_to)))
    return [
        {
            "title": title,
            **save_chart(
                figure,
                bucket=raw_bucket,
                title=title,
                key_prefix=f"charts/vn_stock/{date_from}_{date_to}/index_close_volume",
            ),
        }
    ]


with DAG(
    dag_id=PIPELINE,
    description="VN-Index daily history: Selenium scrape (Lambda) -> Glue clean -> Aurora PostgreSQL upsert",
    schedule=CronTriggerTimetable("0 22 * * 1-5", timezone=MARKET_TZ),
    # The exchange's first session: a backfill can reach any day of the index (runs before start_date are empty).
    start_date=pendulum.datetime(2000, 7, 28, tz=MARKET_TZ),
    catchup=False,  # missed days: a date_from/date_to run or `airflow backfill create` (see the docstring)
    max_active_runs=1,  # runs share one cluster: a run must not stop it under another
    # Late (an alert) when not done in time: Aurora start and stop take up to 15 minutes each, the rest minutes.
    **dag_defaults(PIPELINE, must_finish_within=timedelta(hours=2)),
    template_searchpath=sql_dir(),
    params={
        "date_from": Param(
            None,
            type=["null", "string"],
            format="date",
            description="first day to scrape (default: the run's trading day)",
        ),
        "date_to": Param(
            None, type=["null", "string"], format="date", description="last day to scrape (default: date_from)"
        ),
    },
    tags=["vn_stock", "selenium", "lambda", "glue", "aurora"],
    doc_md=__doc__,
) as dag:
    start_aurora = RdsStartDbOperator(
        task_id="start_aurora",
        db_type="cluster",
        db_identifier=AURORA_CLUSTER,
        wait_for_completion=True,
        waiter_delay=poll_interval(15),
        waiter_max_attempts=60,  # Aurora takes minutes to start
    )

    scrape = LambdaInvokeFunctionOperator(
        task_id="scrape",
        function_name=SETTINGS.scraper_function,
        payload=SCRAPE_EVENT,
        # Wait as long as the function may run (300 s) and never let botocore re-invoke it on a read timeout.
        botocore_config={"read_timeout": 320, "connect_timeout": 10, "retries": {"total_max_attempts": 1}},
    )
    scrape_result = read_scrape_result(scrape.output, RAW_BUCKET)
    route = route_by_trading(scrape_result)
    no_trading = report_no_trading(scrape_result)

    clean_prices = GlueJobRunOperator(
        task_id="clean_prices",
        job_name=CLEAN_JOB,
        script_args={
            "--run_date": f"{{{{ {DATE_FROM} }}}}",
            "--raw_uris": "{{ ti.xcom_pull(task_ids='read_scrape_result')['raw_uris'] }}",
            "--clean_uri": CLEAN_URI,
            "--quarantine_uri": REJECTS_URI,
            "--report_uri": f"s3://{RAW_BUCKET}/{REPORT_KEY}",
        },
        job_poll_interval=poll_interval(5),
    )
    clean_report = read_job_report(RAW_BUCKET, REPORT_KEY)

    create_table = SQLExecuteQueryOperator(
        task_id="create_table", conn_id=AURORA_CONN, sql="vn_stock/create_daily_index.sql"
    )
    loaded = load_into_aurora(clean_report, f"{{{{ {DATE_FROM} }}}}")

    check_table = SQLTableCheckOperator(task_id="check_table", conn_id=AURORA_CONN, table=TABLE, checks=TABLE_CHECKS)
    check_changes = SQLCheckOperator(
        task_id="check_changes", conn_id=AURORA_CONN, sql="vn_stock/check_change_consistency.sql"
    )
    index_chart = draw_index_chart(RAW_BUCKET, f"{{{{ {DATE_FROM} }}}}", f"{{{{ {DATE_TO} }}}}")
    no_rejects = confirm_no_rejects.override(
        on_success_callback=[
            success_notifier(
                PIPELINE, summary_task="load_into_aurora", charts_task="draw_index_chart", cost_spec=RUN_COST
            )
        ]
    )(clean_report, REJECTS_URI)

    stop_aurora = RdsStopDbOperator(
        task_id="stop_aurora",
        db_type="cluster",
        db_identifier=AURORA_CLUSTER,
        wait_for_completion=True,
        waiter_delay=poll_interval(15),
        waiter_max_attempts=60,
    )

    chain(
        # setup: the cluster is stopped between runs
        start_aurora,
        # scrape, then stop here on a day without trading
        scrape,
        scrape_result,
        route,
        [clean_prices, no_trading],
    )
    chain(
        # clean, load in one transaction, prove the table is sound, chart it
        clean_prices,
        clean_report,
        create_table,
        loaded,
        check_table,
        check_changes,
        index_chart,
        no_rejects,
    )
    chain(
        # teardown: stop the cluster whatever happened, so a failure never leaves it running
        [no_rejects, no_trading],
        stop_aurora,
    )
    # A teardown does not decide the run's state, so a failed load still fails the run; ALL_DONE (rather than
    # the teardown default ALL_DONE_SETUP_SUCCESS) also stops a cluster whose start timed out half-way.
    stop_aurora.as_teardown(setups=start_aurora)
    stop_aurora.trigger_rule = TriggerRule.ALL_DONE
