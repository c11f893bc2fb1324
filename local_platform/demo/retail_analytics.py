"""Demo: the retail seed dropped for two days, loaded, analysed and exported."""

from __future__ import annotations

import psycopg2

from local_platform.demo import DemoContext, DemoScenario, PipelineReport
from local_platform.seed import upload_retail_seed

DATES = ["2022-09-05", "2022-09-06"]


def prepare(ctx: DemoContext) -> None:
    s3 = ctx.client("s3")
    for run_date in DATES:
        upload_retail_seed(s3, ctx.variables["retail_analytics"]["raw_bucket"], run_date)


def report(ctx: DemoContext) -> PipelineReport:
    with psycopg2.connect(ctx.database_dsn("retail_postgres")) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM staging.orders) + (SELECT count(*) FROM staging.reviews)"
            " + (SELECT count(*) FROM staging.shipment_deliveries)"
        )
        loaded = cur.fetchone()[0]
        cur.execute(
            "SELECT (SELECT count(*) FROM staging.orders_rejects) + (SELECT count(*) FROM staging.reviews_rejects)"
            " + (SELECT count(*) FROM staging.shipment_deliveries_rejects)"
        )
        quarantined = cur.fetchone()[0]
    conn.close()
    bucket = ctx.variables["retail_analytics"]["export_bucket"]
    keys = [item["Key"] for item in ctx.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])]
    return PipelineReport(
        rows_loaded=loaded,
        rows_quarantined=quarantined,
        outputs=[
            f"PostgreSQL {ctx.database_dsn('retail_postgres')} schemas staging, analytics",
            f"{len(keys)} CSV exports under s3://{bucket}/retail_analytics/",
        ],
    )


SCENARIO = DemoScenario(dag_id="retail_analytics", dates=DATES, prepare=prepare, report=report)
