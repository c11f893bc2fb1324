"""Demo of vn_stock: three scheduled days against the local copy of the cafef.vn page.

Friday 17 and Monday 20 November 2023 are trading days (one row each in Aurora's stand-in); Saturday the 18th
shows the site's "no matching results" and ends in a [NO_TRADING] message. The local copy of the site listens on
``LOCAL_CAFEF_PORT`` (4580) while the demo runs. The cluster is stopped first, as it
is between runs, so that each run starts and stops it.
"""

from __future__ import annotations

import json
import os

import psycopg2

from local_platform.demo import DemoContext, DemoScenario, PipelineReport
from local_platform.fake_sites.cafef_history import FakeCafef

_site: dict[str, FakeCafef] = {}


def prepare(ctx: DemoContext) -> None:
    rds = ctx.client("rds")
    cluster = ctx.variables["vn_stock"]["aurora_cluster"]
    if rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]["Status"] == "available":
        rds.stop_db_cluster(DBClusterIdentifier=cluster)
    # A fixed port: Airflow, started with the site's address, need not restart for the next demo.
    _site["cafef"] = FakeCafef(port=int(os.environ.get("LOCAL_CAFEF_PORT", "4580"))).__enter__()


def extra_env(ctx: DemoContext) -> dict[str, str]:
    config = {**ctx.variables["vn_stock"], "source_url": _site["cafef"].url}
    return {"AIRFLOW_VAR_VN_STOCK": json.dumps(config)}


def report(ctx: DemoContext) -> PipelineReport:
    with psycopg2.connect(ctx.database_dsn("aurora_vn_stock")) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT trading_date, close_price, change_value, change_percent FROM vn_stock.daily_index "
            "ORDER BY trading_date"
        )
        rows = cur.fetchall()
        cur.execute("SELECT to_regclass('vn_stock.daily_index_rejects') IS NOT NULL")
        quarantined = 0
        if cur.fetchone()[0]:
            cur.execute("SELECT count(*) FROM vn_stock.daily_index_rejects")
            quarantined = cur.fetchone()[0]
    conn.close()
    outputs = [
        f"vn_stock.daily_index {day}: close {close} change {change:+} ({percent:+}%)"
        for day, close, change, percent in rows
    ]
    return PipelineReport(rows_loaded=len(rows), rows_quarantined=quarantined, outputs=outputs)


def cleanup() -> None:
    if site := _site.pop("cafef", None):
        site.__exit__(None, None, None)


SCENARIO = DemoScenario(
    dag_id="vn_stock",
    dates=["2023-11-17", "2023-11-18", "2023-11-20"],
    prepare=prepare,
    report=report,
    extra_env=extra_env,
    cleanup=cleanup,
)
