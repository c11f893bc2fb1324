"""Demo of toll_plaza: two scheduled days of generated transactions loaded into the Redshift stand-in.

Before the first day, a file the original generator wrote (the seed sample: Python dict literals with single
quotes) lands in the same partition, with two broken lines: the Glue job reads the legacy records, quarantines
the broken ones, and the generated batch loads beside them.
"""

from __future__ import annotations

import json

import psycopg2

from local_platform.demo import DemoContext, DemoScenario, PipelineReport
from local_platform.settings import PROJECT_ROOT

SEED_FILE = PROJECT_ROOT / "local_platform" / "seed_data" / "toll_plaza" / "sample_data_toll_application.json"
DATES = ["2026-03-14", "2026-03-15"]
BROKEN_LINES = [
    "{'transaction_id': 'n/a', 'transaction_date': '2026/03/14', 'toll_booth': 'golf_rd', "
    "'vehicle_category': 'SUV', 'transaction_amount': 4.2}",
    '{"transaction_id": 99, "transaction_date": "2026-03-14", "toll_booth": "golf_rd", "transaction_amo',
]


def prepare(ctx: DemoContext) -> None:
    body = SEED_FILE.read_text().rstrip("\n") + "\n" + "\n".join(BROKEN_LINES) + "\n"
    ctx.client("s3").put_object(
        Bucket=ctx.variables["toll_plaza"]["landing_bucket"],
        Key=f"landing/toll/dt={DATES[0]}/legacy-sample.json",
        Body=body.encode(),
    )


def report(ctx: DemoContext) -> PipelineReport:
    from local_platform.aws.compute.redshift_data import standin_database_name
    from local_platform.postgres import database_dsn

    config = ctx.variables["toll_plaza"]
    s3 = ctx.client("s3")
    job_reports = [
        json.loads(
            s3.get_object(Bucket=config["staging_bucket"], Key=f"reports/toll/dt={day}/report.json")["Body"].read()
        )
        for day in DATES
    ]
    name = standin_database_name(ctx.namespace, config["redshift_workgroup"], config["redshift_database"])
    with psycopg2.connect(database_dsn(ctx.postgres_dsn, name)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT landing_date, COUNT(*), SUM(transaction_amount) FROM public.toll_table "
            "WHERE landing_date = ANY(%s::date[]) GROUP BY 1 ORDER BY 1",
            (DATES,),
        )
        loaded = cur.fetchall()
        cur.execute(
            "SELECT transaction_date, toll_booth, SUM(revenue) FROM public.toll_daily_booth_revenue "
            "WHERE transaction_date = ANY(%s::date[]) GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 3",
            (DATES,),
        )
        top_booths = cur.fetchall()
    conn.close()
    outputs = [f"toll_table landing {day}: {count} rows, revenue {revenue}" for day, count, revenue in loaded]
    outputs += [
        f"job report {r['run_date']}: read {r['read']}, loaded {r['loaded']}, quarantined "
        f"{r['quarantined']}, duplicates {r['duplicates']}"
        for r in job_reports
    ]
    outputs += [f"top booth {day} {booth}: revenue {revenue}" for day, booth, revenue in top_booths]
    return PipelineReport(
        rows_loaded=sum(count for _, count, _ in loaded),
        rows_quarantined=sum(r["quarantined"] for r in job_reports),
        outputs=outputs,
    )


SCENARIO = DemoScenario(dag_id="toll_plaza", dates=DATES, prepare=prepare, report=report)
