"""The demo, run through Airflow's scheduler on MWAA's executor (Celery, two workers, SQS as the broker): every run
succeeds, the backfill completes, the data is what the scenarios put in, and both workers ran tasks."""

from __future__ import annotations

import re

import pytest

from deploy.pipelines import names
from local_platform.airflow_api import AirflowApi

pytestmark = pytest.mark.scheduler


def test_every_pipeline_run_succeeds_through_the_scheduler_and_the_summary_says_so(demo_platform):
    _, summary, output = demo_platform
    pipelines = {pipeline["dag_id"]: pipeline for pipeline in summary["pipelines"]}

    assert sorted(pipelines) == sorted(names()), output[-4000:]
    for dag_id, pipeline in pipelines.items():
        assert pipeline["ok"], (dag_id, pipeline["error"], [(run["date"], run["state"]) for run in pipeline["runs"]])
        assert all(run["summary"] is not None for run in pipeline["runs"]), (dag_id, pipeline["runs"])
    assert summary["pipelines_s"] > 0 and summary["setup_s"] > 0
    assert "Timing: pipelines" in output


def test_csv_lake_backfill_completes_with_one_run_per_day(demo_platform):
    platform, summary, _ = demo_platform
    api = AirflowApi(platform.ui_url)
    csv_lake = next(pipeline for pipeline in summary["pipelines"] if pipeline["dag_id"] == "csv_lake")
    runs = [api.run("csv_lake", run["run_id"]) for run in csv_lake["runs"]]

    assert [run["logical_date"][:10] for run in runs] == ["2023-05-30", "2023-05-31", "2023-06-01"]
    assert {run["run_type"] for run in runs} == {"backfill"} and {run["state"] for run in runs} == {"success"}
    # A run does not name its backfill in the REST API: the DAG's backfills do name their dates.
    backfills = api.get("/backfills", dag_id="csv_lake", limit=1000)["backfills"]
    assert [
        backfill["completed_at"] is not None
        for backfill in backfills
        if (backfill["from_date"][:10], backfill["to_date"][:10]) == ("2023-05-30", "2023-06-01")
    ][-1:] == [True]


def test_runs_carry_the_data_the_scenarios_put_in(demo_platform):
    _, summary, _ = demo_platform
    runs = {(pipeline["dag_id"], run["date"]): run for pipeline in summary["pipelines"] for run in pipeline["runs"]}
    reports = {pipeline["dag_id"]: pipeline["report"] for pipeline in summary["pipelines"]}

    # csv_lake: 500 + 200 rows on the first day (6 uncastable quarantined, 10 repeated lines dropped), 650 on the
    # second, a header-only export on the third (no data).
    first, second, third = (runs[("csv_lake", day)] for day in ("2023-05-30", "2023-05-31", "2023-06-01"))
    assert (first["summary"]["read"], first["summary"]["quarantined"]) == (700, 6)
    assert first["summary"]["loaded"] == 700 - 6 - first["summary"]["duplicates"]
    assert second["summary"]["loaded"] == 650
    assert third["event"] == "no_data" and third["summary"]["loaded"] == 0
    # vn_stock: two trading days loaded, Saturday the 18th has no trading.
    assert runs[("vn_stock", "2023-11-18")]["event"] == "no_trading"
    assert reports["vn_stock"]["rows_loaded"] == 2
    # toll_plaza: each day's run owns what it staged; retail: every file of both drops loaded.
    for day in ("2026-03-14", "2026-03-15"):
        toll = runs[("toll_plaza", day)]["summary"]
        assert toll["loaded"] > 0 and toll["read"] == toll["loaded"] + toll["quarantined"] + toll["duplicates"]
    for day in ("2022-09-05", "2022-09-06"):
        loads = runs[("retail_analytics", day)]["summary"]["loads"]
        assert sorted(loads) == ["orders", "reviews", "shipment_deliveries"]
        assert all(counts["read"] == counts["loaded"] + counts["quarantined"] for counts in loads.values())


def test_both_celery_workers_ran_tasks(demo_platform):
    platform, _, _ = demo_platform
    for number in (1, 2):
        log = (platform.state_dir / "logs" / f"worker-{number}.log").read_text()
        assert re.search(r"Task execute_workload\[[0-9a-f-]+\] succeeded", log), log[-3000:]
