"""Demo of csv_lake: three days of billing CSV files become a catalogued, partitioned Parquet table.

The original's file was never published, so the generator writes it: on the first day a clean file and
a spreadsheet export of the same kind (messy headers, repeated lines, a few values that cannot be cast),
a clean file on the second, and on the third only a header-only export (the clear outcome: no partition,
a [NO_DATA] alert).
"""

from __future__ import annotations

import json
from datetime import date

from local_platform.demo import DemoContext, DemoScenario, PipelineReport
from local_platform.generators.billing_csv import generate, header_only

DATES = ["2023-05-30", "2023-05-31", "2023-06-01"]


def prepare(ctx: DemoContext) -> None:
    s3 = ctx.client("s3")
    bucket = ctx.variables["csv_lake"]["raw_bucket"]
    first, second, third = (date.fromisoformat(day) for day in DATES)
    files = {
        f"billing/dt={first}/billing_data_meat_may_2023.csv": generate(500, seed=1, day=first),
        f"billing/dt={first}/billing_export_late_orders.csv": generate(
            200, seed=2, day=first, bad_rows=6, duplicates=10, messy_headers=True
        ),
        f"billing/dt={second}/billing_data_meat_may_2023.csv": generate(650, seed=3, day=second),
        f"billing/dt={third}/billing_data_meat_jun_2023.csv": header_only(messy_headers=True),
    }
    for key, generated in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=generated.encode())


def report(ctx: DemoContext) -> PipelineReport:
    config = ctx.variables["csv_lake"]
    s3 = ctx.client("s3")
    job_reports = [
        json.loads(
            s3.get_object(Bucket=config["processed_bucket"], Key=f"reports/billing/dt={day}/report.json")["Body"].read()
        )
        for day in DATES
    ]
    partitions = ctx.client("glue").get_partitions(DatabaseName=config["glue_database"], TableName="billing")
    catalogued = sorted(partition["Values"][0] for partition in partitions["Partitions"])
    outputs = [
        f"job report {r['run_date']}: {r['status']}, read {r['read']}, loaded {r['loaded']}, quarantined "
        f"{r['quarantined']}, duplicates {r['duplicates']}"
        for r in job_reports
    ]
    outputs.append(f"catalog {config['glue_database']}.billing partitions: {', '.join(catalogued)}")
    return PipelineReport(
        rows_loaded=sum(r["loaded"] for r in job_reports),
        rows_quarantined=sum(r["quarantined"] for r in job_reports),
        outputs=outputs,
    )


# The three days as one Airflow backfill, as a user would load a past range; one day at a time, since the Glue job
# runs once at a time (its MaxConcurrentRuns, as on AWS): a second start would fail and wait for its retry.
SCENARIO = DemoScenario(
    dag_id="csv_lake", dates=DATES, prepare=prepare, report=report, backfill=True, backfill_max_active_runs=1
)
