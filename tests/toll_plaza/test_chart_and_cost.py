"""A toll_plaza run's success alert carries its chart (PNG and HTML beside the staged data) and what the run
would have cost on AWS, from what the local AWS APIs reported for it: the Glue run's ExecutionTime at the job's
workers, the generator's billed duration at its memory, the Redshift statements' durations at the base RPU."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from pipeline_kit.cost import load_prices

from tests.helpers.airflow_runs import run_dag
from tests.helpers.alerts import drain_alerts

pytestmark = pytest.mark.dag_run

STAGING = "toll-plaza-staging-local"


@pytest.fixture
def platform(local_aws, stacks, airflow_settings):
    drain_alerts(local_aws)
    return local_aws


def test_success_alert_links_the_revenue_chart_and_prices_the_runs_usage(platform):
    result = run_dag("toll_plaza", datetime(2026, 4, 2, tzinfo=UTC), {"records": 50, "seed": 3})
    assert result.state == "success", (result.task_states, platform.log_tail())

    (alert,) = [alert for alert in drain_alerts(platform) if alert["event"] == "success"]
    (chart,) = alert["charts"]
    assert chart["png"] == f"s3://{STAGING}/charts/toll/dt=2026-04-02/revenue_per_booth.png"
    s3 = platform.client("s3")
    png = s3.get_object(Bucket=STAGING, Key="charts/toll/dt=2026-04-02/revenue_per_booth.png")["Body"].read()
    page = s3.get_object(Bucket=STAGING, Key="charts/toll/dt=2026-04-02/revenue_per_booth.html")["Body"].read()
    assert png.startswith(b"\x89PNG") and b"Toll revenue per booth per day, to 2026-04-02" in page

    cost = alert["cost"]
    assert cost["region"] == "us-east-1" and cost["prices_as_of"] == load_prices()["prices_as_of"]
    items = {item["service"]: item for item in cost["items"]}
    assert set(items) == {"glue_job", "lambda", "redshift_serverless"}

    glue = platform.client("glue")
    job_run_id = result.xcom("transform_transactions")
    job_run = glue.get_job_run(JobName="toll_plaza_transform", RunId=job_run_id)["JobRun"]
    assert job_run["ExecutionTime"] > 0
    assert items["glue_job"]["quantity"] == 2 * max(job_run["ExecutionTime"], 60)  # 2 x G.1X, a minute at least

    logs = platform.client("logs").filter_log_events(logGroupName="/aws/lambda/toll_plaza_generator")["events"]
    billed = [int(m.group(1)) for event in logs if (m := re.search(r"Billed Duration: (\d+) ms", event["message"]))]
    assert items["lambda"]["quantity"] == pytest.approx(billed[-1] / 1000 * 1024 / 1024, abs=1e-3)  # 1 GB

    assert items["redshift_serverless"]["quantity"] >= 60 * 8  # the 60 s minimum at the base 8 RPU
    assert cost["total_usd"] == pytest.approx(sum(item["usd"] for item in cost["items"]))
    assert 0 < cost["total_usd"] < 1
