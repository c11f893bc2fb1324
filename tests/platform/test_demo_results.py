"""The demo's results from the runs' alerts: charts downloaded from the local S3 beside an index page that links
them, each run's AWS cost, each pipeline's runs (a backfill) added up, and the demo's total."""

from __future__ import annotations

import re

import pytest
from pipeline_kit.cost import load_prices, price_usage

from local_platform.demo.report import collect_results, summary_lines, write_index

BUCKET = "demo-results-tests"


def _chart(s3, key: str, title: str) -> dict:
    s3.put_object(Bucket=BUCKET, Key=f"{key}.png", Body=b"\x89PNG fake " + key.encode())
    s3.put_object(Bucket=BUCKET, Key=f"{key}.html", Body=f"<h1>{title}</h1>".encode())
    return {"title": title, "png": f"s3://{BUCKET}/{key}.png", "html": f"s3://{BUCKET}/{key}.html"}


def _glue_run_cost(seconds: int) -> dict:
    return price_usage(
        [
            {
                "service": "glue_job",
                "resource": "j",
                "execution_time_s": seconds,
                "worker_type": "G.1X",
                "number_of_workers": 2,
            }
        ],
        load_prices(),
    )


@pytest.fixture
def alerts(local_aws):
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    return [
        {
            "event": "success",
            "pipeline": "toll_plaza",
            "run_id": "r1",
            "logical_date": "2026-03-14",
            "charts": [_chart(s3, "charts/toll/dt=2026-03-14/revenue", "revenue 14")],
            "cost": _glue_run_cost(90),
        },
        {
            "event": "success",
            "pipeline": "toll_plaza",
            "run_id": "r2",
            "logical_date": "2026-03-15",
            "charts": [_chart(s3, "charts/toll/dt=2026-03-15/revenue", "revenue 15")],
            "cost": _glue_run_cost(30),
        },
        {"event": "failure", "pipeline": "csv_lake", "run_id": "r3", "error": "boom"},
        {
            "event": "no_data",
            "pipeline": "csv_lake",
            "run_id": "r4",
            "logical_date": "2023-05-03",
            "cost": {"error": "ClientError: denied"},
        },
    ]


def test_index_links_every_downloaded_chart_and_summary_adds_up_runs(local_aws, alerts, tmp_path):
    results = collect_results(alerts)
    index = write_index(local_aws.client("s3"), results, tmp_path)
    lines = summary_lines(results, index)

    assert [result.run_id for result in results] == ["r1", "r2", "r4"]  # the failure carries no results
    downloaded = tmp_path / "charts" / BUCKET / "charts/toll/dt=2026-03-14/revenue.png"
    assert downloaded.read_bytes() == b"\x89PNG fake charts/toll/dt=2026-03-14/revenue"
    page = index.read_text()
    for day in ("14", "15"):
        assert f'src="charts/{BUCKET}/charts/toll/dt=2026-03-{day}/revenue.png"' in page
        assert f'href="charts/{BUCKET}/charts/toll/dt=2026-03-{day}/revenue.html"' in page

    one_minute = 2 * 60 / 3600 * 0.44  # 2 DPU for the 1-minute minimum
    ninety_s = 2 * 90 / 3600 * 0.44
    assert "toll_plaza 2026-03-14: AWS cost $0.02" in lines  # 0.022
    assert "toll_plaza 2026-03-15: AWS cost $0.01" in lines  # 0.0147
    assert "csv_lake 2023-05-03: AWS cost not measured (ClientError: denied)" in lines
    backfill = next(line for line in lines if line.startswith("toll_plaza: 2 run(s)"))
    assert backfill == f"toll_plaza: 2 run(s) would cost ${one_minute + ninety_s:.2f} on AWS"
    assert re.fullmatch(r"all pipelines: \$0\.04 on AWS \(us-east-1 prices as of \d{4}-\d\d-\d\d\)", lines[-2])
    assert lines[-1] == f"charts: {index}"
    assert "Whole demo: $0.04 on AWS" in page
