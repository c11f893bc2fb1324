"""retail_analytics: a day's orders, reviews and shipments from S3 into PostgreSQL staging, analysed into
``analytics`` for the run's date and exported back to S3 as CSV.

A producer drops ``orders.csv``, ``reviews.csv`` and ``shipment_deliveries.csv`` (a snapshot of the shop)
under ``retail/dt=<date>/`` in the raw bucket, then a ``_SUCCESS`` marker. Each file is streamed into its
staging table's slice for the run date (``drop_date``) through ``COPY`` and merged on its key (reviews get a
deterministic surrogate key); malformed rows are quarantined in ``staging.<table>_rejects``.

What a run's analytics cover: the run date's drop, and of it only what was known on the run date. Each run
owns its drop's slice of staging, so runs of different days never change each other's results, in any order,
concurrently or as a backfill, and a rerun gives the same rows. The analyses
(``include/sql/retail_analytics/``) replace their rows for the run date, are checked, and each is exported to
``s3://<export_bucket>/retail_analytics/<table>/dt=<date>/<table>.csv``.

A drop whose three files hold no data rows is a "no data" day: no analysis, a ``[NO_DATA]`` alert, success.
A drop with some files empty and others not is incomplete: the run fails at once, naming them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.amazon.aws.transfers.sql_to_s3 import SqlToS3Operator
from airflow.providers.common.sql.operators.sql import (
    SQLColumnCheckOperator,
    SQLExecuteQueryOperator,
    SQLTableCheckOperator,
)
from airflow.sdk import DAG, Param, TaskGroup, chain, task
from pipeline_kit.alerts import success_notifier
from pipeline_kit.defaults import dag_defaults
from pipeline_kit.paths import sql_dir
from pipeline_kit.polling import poll_interval
from pipeline_kit.s3_to_postgres import S3ToPostgresMergeOperator, SurrogateKey
from pipeline_kit.settings import RUN_DATE, PipelineSettings

PIPELINE = "retail_analytics"
SETTINGS = PipelineSettings(PIPELINE)
CONN_ID = "retail_postgres"
RAW_BUCKET = SETTINGS.raw_bucket
RAW_PREFIX = f"retail/dt={RUN_DATE}/"
EXPORT_BUCKET = SETTINGS.export_bucket

# Source file -> staging table, its columns (CSV header names) and key.
# Source file -> its staging table's key (the table's columns, types and nullability are its DDL's: ddl.sql).
# Reviews have no key: a deterministic surrogate one.
SOURCES = {
    "orders": {"key_columns": ["order_id"]},
    "reviews": {"key_columns": ["review_id"], "surrogate_key": SurrogateKey("review_id", ("product_id", "review"))},
    "shipment_deliveries": {"key_columns": ["shipment_id"]},
}

STAGING_COLUMN_CHECKS = {
    "orders": {
        "order_id": {"null_check": {"equal_to": 0}, "unique_check": {"equal_to": 0}},
        "quantity": {"min": {"geq_to": 1}},
        "unit_price": {"min": {"greater_than": 0}},
    },
    "reviews": {
        "review": {"min": {"geq_to": 1}, "max": {"leq_to": 5}},
        "product_id": {"null_check": {"equal_to": 0}},
    },
    "shipment_deliveries": {
        "shipment_id": {"unique_check": {"equal_to": 0}},
        "order_id": {"null_check": {"equal_to": 0}},
    },
}

# Checks on the run date's rows of each analytics table, and how its export is ordered.
ANALYSES = {
    "agg_shipments": {
        "checks": {
            "one_row": {"check_statement": "COUNT(*) = 1"},
            "counts_not_negative": {"check_statement": "MIN(LEAST(tt_late_shipments, tt_undelivered_items)) >= 0"},
        },
        "order_by": "run_date",
    },
    "agg_public_holiday_orders": {
        "checks": {
            "twelve_months": {"check_statement": "COUNT(DISTINCT order_month) = 12 AND COUNT(*) = 12"},
            "counts_not_negative": {"check_statement": "MIN(tt_orders) >= 0"},
        },
        "order_by": "order_month",
    },
    "best_performing_product": {
        "checks": {
            "one_row": {"check_statement": "COUNT(*) = 1"},
            "stars_add_up": {
                "check_statement": "MAX(ABS(pct_one_star_review + pct_two_star_review + pct_three_star_review"
                " + pct_four_star_review + pct_five_star_review - 100)) <= 0.05"
            },
            "late_share_is_a_percentage": {"check_statement": "MAX(pct_late_shipments) BETWEEN 0 AND 100"},
        },
        "order_by": "run_date",
    },
}


@task
def draw_retail_charts(export_bucket: str, run_date: str) -> list[dict]:
    """The late/undelivered trend to the run's date and the best product's star shares, beside the exports."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from pipeline_kit import figures
    from pipeline_kit.charts import save_chart

    hook = PostgresHook(postgres_conn_id=CONN_ID)
    trend = hook.get_records(
        "SELECT run_date, tt_late_shipments, tt_undelivered_items FROM analytics.agg_shipments "
        "WHERE run_date <= %(run_date)s ORDER BY run_date",
        parameters={"run_date": run_date},
    )
    best = hook.get_first(
        "SELECT product_id, "
        + ", ".join(f"pct_{stars}_star_review" for stars in figures.STARS)
        + " FROM analytics.best_performing_product WHERE run_date = %(run_date)s",
        parameters={"run_date": run_date},
    )
    charts = [
        (
            "Late shipments and undelivered items per run date",
            "late_undelivered",
            figures.late_undelivered_trend(trend),
        ),
        (
            f"Best product {best[0]} on {run_date}: reviews per star",
            "best_product_stars",
            figures.star_distribution(best[0], best[1:]),
        ),
    ]
    return [
        {
            "title": title,
            **save_chart(
                figure, bucket=export_bucket, title=title, key_prefix=f"retail_analytics/charts/dt={run_date}/{name}"
            ),
        }
        for title, name, figure in charts
    ]


@task
def build_calendar(run_date: str, first_year: int, country: str) -> int:
    """(Re)generate analytics.dim_dates from ``first_year`` to the year after the run's."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from pipeline_kit.calendar_dim import refresh_dim_dates

    conn = PostgresHook(postgres_conn_id=CONN_ID).get_conn()
    try:
        return refresh_dim_dates(conn, "analytics.dim_dates", int(first_year), int(run_date[:4]) + 1, country)
    finally:
        conn.close()


@task.branch
def route_by_drop(loads: dict) -> str:
    """Data in every file: check and analyse it. No data rows in any file: a "no data" day. Some files empty
    and not others: the drop is incomplete, which no retry mends."""
    from airflow.sdk.exceptions import AirflowFailException

    empty = sorted(name for name, counts in loads.items() if counts["read"] == 0)
    if not empty:
        return "check_staging"
    if len(empty) == len(loads):
        return "report_no_data"
    raise AirflowFailException(
        f"incomplete drop: {', '.join(f'{name}.csv' for name in empty)} hold no data rows "
        f"while {', '.join(sorted(set(loads) - set(empty)))} do; nothing analysed"
    )


@task(on_success_callback=[success_notifier(PIPELINE, event="no_data")])
def report_no_data(loads: dict, run_date: str) -> dict:
    """The day's drop holds no data rows: its staging slices are empty and nothing is analysed."""
    return {"run_date": run_date, "files": {name: counts["source"] for name, counts in loads.items()}, "rows": 0}


# Nothing this pipeline runs is billed per run on AWS (S3 requests aside): its PostgreSQL is always on.
@task(on_success_callback=[success_notifier(PIPELINE, charts_task="draw_retail_charts", cost_spec={})])
def summarize_run(loads: dict, exports: list[str]) -> dict:
    """Rows read, loaded and quarantined per file and where the exports are: the success alert's summary."""
    return {
        "loads": {
            name: {key: counts[key] for key in ("read", "loaded", "quarantined", "inserted", "updated", "unchanged")}
            for name, counts in loads.items()
        },
        "quarantined_total": sum(counts["quarantined"] for counts in loads.values()),
        "exports": exports,
    }


with DAG(
    dag_id=PIPELINE,
    description="Retail orders, reviews, shipments: S3 -> PostgreSQL staging -> analytics -> CSV exports",
    schedule="@daily",
    start_date=datetime(2021, 1, 1),
    catchup=False,  # past dates run as backfills (airflow backfill create), each idempotent
    # Each run owns its drop's slice of staging: a run waiting for its drop must not hold up a manual run or a
    # rerun of another day (backfills count apart in Airflow 3 and are as safe).
    max_active_runs=3,
    # Late (an alert) when not done in time: the drop may come until the sensor gives up (20 h), then minutes of work.
    **dag_defaults(PIPELINE, must_finish_within=timedelta(hours=21)),
    template_searchpath=[sql_dir()],
    params={
        "holiday_country": Param("NG", type="string", description="ISO country of the public-holiday calendar"),
        "calendar_first_year": Param(2015, type="integer", description="first year of analytics.dim_dates"),
    },
    tags=["retail_analytics", "s3", "postgres"],
    doc_md=__doc__,
) as dag:
    wait_for_drop = S3KeySensor(
        task_id="wait_for_drop",
        bucket_name=RAW_BUCKET,
        bucket_key=f"{RAW_PREFIX}_SUCCESS",
        deferrable=True,
        poke_interval=poll_interval(300),
        timeout=timedelta(hours=20).total_seconds(),  # the drop comes at most once a day
    )

    create_tables = SQLExecuteQueryOperator(task_id="create_tables", conn_id=CONN_ID, sql="retail_analytics/ddl.sql")

    calendar = build_calendar(RUN_DATE, "{{ params.calendar_first_year }}", "{{ params.holiday_country }}")

    with TaskGroup("load_staging") as load_staging:
        loads = {
            name: S3ToPostgresMergeOperator(
                task_id=name,
                s3_bucket=RAW_BUCKET,
                s3_key=f"{RAW_PREFIX}{name}.csv",
                postgres_conn_id=CONN_ID,
                table=f"staging.{name}",
                slice_column="drop_date",
                max_reject_rate=SETTINGS.max_reject_rate,
                **spec,
            )
            for name, spec in SOURCES.items()
        }

    with TaskGroup("check_staging") as check_staging:
        for name, column_mapping in STAGING_COLUMN_CHECKS.items():
            SQLColumnCheckOperator(
                task_id=name,
                conn_id=CONN_ID,
                table=f"staging.{name}",
                column_mapping=column_mapping,
                partition_clause=f"drop_date = '{RUN_DATE}'",
            )
        SQLTableCheckOperator(
            task_id="shipments_follow_orders",
            conn_id=CONN_ID,
            table="staging.shipment_deliveries",
            checks={
                "delivered_after_shipped": {
                    "check_statement": "delivery_date IS NULL OR shipment_date IS NULL OR delivery_date >= shipment_date"
                }
            },
            partition_clause=f"drop_date = '{RUN_DATE}'",
        )

    with TaskGroup("analyse") as analyse:
        for name in ANALYSES:
            SQLExecuteQueryOperator(
                task_id=name,
                conn_id=CONN_ID,
                sql=f"retail_analytics/{name}.sql",
                parameters={"run_date": RUN_DATE},
                split_statements=True,
            )

    with TaskGroup("check_analytics") as check_analytics:
        for name, spec in ANALYSES.items():
            SQLTableCheckOperator(
                task_id=name,
                conn_id=CONN_ID,
                table=f"analytics.{name}",
                checks=spec["checks"],
                partition_clause=f"run_date = '{RUN_DATE}'",
            )

    export_keys = {name: f"retail_analytics/{name}/dt={RUN_DATE}/{name}.csv" for name in ANALYSES}
    with TaskGroup("export") as export:
        for name, spec in ANALYSES.items():
            SqlToS3Operator(
                task_id=name,
                sql_conn_id=CONN_ID,
                query=f"SELECT * FROM analytics.{name} WHERE run_date = '{RUN_DATE}' ORDER BY {spec['order_by']}",
                s3_bucket=EXPORT_BUCKET,
                s3_key=export_keys[name],
                file_format="csv",
                df_kwargs={"index": False},
                replace=True,
            )

    load_counts = {name: operator.output for name, operator in loads.items()}
    route = route_by_drop(load_counts)
    no_data = report_no_data(load_counts, RUN_DATE)
    retail_charts = draw_retail_charts(EXPORT_BUCKET, RUN_DATE)
    summary = summarize_run(loads=load_counts, exports=[f"s3://{EXPORT_BUCKET}/{key}" for key in export_keys.values()])

    # Wait for the day's drop, prepare the schemas and the calendar, load the drop.
    chain(wait_for_drop, create_tables, calendar, load_staging, route, [check_staging, no_data])
    # Check the drop, analyse it for the run date and check the results.
    chain(check_staging, analyse, check_analytics)
    # Export and chart the analyses, and report.
    chain(check_analytics, [export, retail_charts], summary)
