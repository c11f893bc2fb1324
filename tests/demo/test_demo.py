"""The demo as a user runs it, then its UI as a person uses it. One module, so that one demo run serves both
(``make test`` keeps a file on one xdist worker; two files would start two platforms and run the demo twice).

Through Airflow's scheduler on MWAA's executor (Celery, two workers, SQS as the broker): every run succeeds, the
backfill completes, the data is what the scenarios put in, and both workers ran tasks. Then the Airflow UI in
headless Chromium (Debian's chromium and chromedriver): every pipeline listed without import errors, a DAG
triggered by clicking, its run green, a task's log showing the task's output, a backfill started from the form.
Screenshots in ``.local/test-artifacts/``."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from deploy.pipelines import names
from local_platform.airflow_api import TERMINAL_RUN_STATES, AirflowApi
from local_platform.browser import CHROMEDRIVER, CHROMIUM
from local_platform.seed import upload_retail_seed
from local_platform.settings import variables
from local_platform.ui_pages import body_text, fill_datetime, open_page, screenshot, visible_button
from tests.demo.conftest import ARTIFACTS
from tests.helpers.waiting import wait_for

pytestmark = pytest.mark.scheduler
RUN_TIMEOUT_S = 15 * 60
UI_ACTION_S = 120  # for what a click starts to show in the REST API
BACKFILL_DAY = "2022-09-07"  # a day the demo did not run: the backfill makes its run


# --- the demo through the scheduler ---------------------------------------------------------------


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


# --- the UI in a browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"headless Chromium needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install chromium chromium-driver")
    from local_platform.browser import headless_chromium

    driver = headless_chromium()
    yield driver
    driver.quit()


def wait_for_run(api: AirflowApi, dag_id: str, run_id: str) -> dict:
    """Until the run has finished (its state is the event waited for, polled once a second)."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (run := api.run(dag_id, run_id))["state"] not in TERMINAL_RUN_STATES:
        assert time.monotonic() < deadline, f"{dag_id} {run_id} still {run['state']}"
        time.sleep(1)
    return run


@pytest.mark.browser
def test_dag_list_shows_every_pipeline_and_no_import_errors(demo_platform, browser):
    platform, _, _ = demo_platform
    open_page(browser, f"{platform.ui_url}/dags", shows=list(names()))
    screenshot(browser, ARTIFACTS / "ui-dag-list.png")

    assert f"{len(names())} Dags" in body_text(browser)
    assert "Import Error" not in body_text(browser)
    assert AirflowApi(platform.ui_url).import_errors() == []


@dataclasses.dataclass(frozen=True)
class RunsStartedInTheUi:
    toll_runs: list[dict]  # the toll_plaza runs that clicking Trigger made
    backfills: list[dict]  # retail_analytics' backfills after the form's Run Backfill
    backfill_runs: list[dict]  # and their runs


@pytest.fixture(scope="module")
def runs_started_in_the_ui(demo_platform, browser) -> RunsStartedInTheUi:
    """Both UI actions first: Trigger clicked for toll_plaza, then a retail_analytics backfill started from its form.
    The two runs then go through the scheduler side by side while the tests wait for each (one after the other,
    the waits were most of the two tests' time)."""
    platform, _, _ = demo_platform
    api = AirflowApi(platform.ui_url)
    toll_runs_before = {run["dag_run_id"] for run in api.runs("toll_plaza")}
    upload_retail_seed(_s3(platform), variables()["retail_analytics"]["raw_bucket"], BACKFILL_DAY)

    open_page(browser, f"{platform.ui_url}/dags/toll_plaza", shows=["generate_transactions"])
    visible_button(browser, aria_label="Trigger Dag").click()
    open_dialog = visible_button(browser, text="Trigger")
    screenshot(browser, ARTIFACTS / "ui-trigger-form.png")
    open_dialog.click()
    toll_runs = wait_for(
        lambda: [run for run in api.runs("toll_plaza") if run["dag_run_id"] not in toll_runs_before], UI_ACTION_S, 0.5
    )

    open_page(browser, f"{platform.ui_url}/dags/retail_analytics", shows=["wait_for_drop"])
    visible_button(browser, aria_label="Trigger Dag").click()
    browser.find_element(By.XPATH, "//*[normalize-space()='Backfill' and @data-part='item-text']").click()
    for name in ("from_date", "to_date"):
        fill_datetime(browser, browser.find_element(By.CSS_SELECTOR, f'input[name="{name}"]'), f"{BACKFILL_DAY}T00:00")
    screenshot(browser, ARTIFACTS / "ui-backfill-form.png")
    visible_button(browser, text="Run Backfill").click()
    backfills = wait_for(lambda: api.get("/backfills", dag_id="retail_analytics")["backfills"], UI_ACTION_S, 0.5)
    # Airflow commits a backfill before it creates the backfill's runs (in a second transaction): wait for them.
    backfill_runs = wait_for(
        lambda: [run for run in api.runs("retail_analytics") if run["run_type"] == "backfill"], UI_ACTION_S, 0.5
    )
    return RunsStartedInTheUi(toll_runs, backfills, backfill_runs)


@pytest.mark.browser
def test_a_dag_triggered_by_clicking_runs_green_and_its_task_log_shows_the_output(
    demo_platform, browser, runs_started_in_the_ui
):
    platform, _, _ = demo_platform
    api = AirflowApi(platform.ui_url)
    assert runs_started_in_the_ui.toll_runs, "clicking Trigger made no run"

    run = wait_for_run(api, "toll_plaza", runs_started_in_the_ui.toll_runs[0]["dag_run_id"])
    assert run["run_type"] == "manual" and run["state"] == "success"

    open_page(browser, f"{platform.ui_url}/dags/toll_plaza/runs/{run['dag_run_id']}", shows=["verify_loaded_rows"])
    screenshot(browser, ARTIFACTS / "ui-triggered-run.png")
    summary = api.xcom("toll_plaza", run["dag_run_id"], "verify_loaded_rows")
    open_page(
        browser,
        f"{platform.ui_url}/dags/toll_plaza/runs/{run['dag_run_id']}/tasks/verify_loaded_rows",
        shows=["Returned value was", f"'loaded': {summary['loaded']}"],
    )
    screenshot(browser, ARTIFACTS / "ui-task-log.png")


@pytest.mark.browser
def test_the_backfill_form_starts_a_backfill_whose_runs_succeed(demo_platform, runs_started_in_the_ui):
    platform, _, _ = demo_platform
    api = AirflowApi(platform.ui_url)
    backfills, runs = runs_started_in_the_ui.backfills, runs_started_in_the_ui.backfill_runs
    assert backfills, "the backfill form started no backfill"
    assert (backfills[0]["from_date"][:10], backfills[0]["to_date"][:10]) == (BACKFILL_DAY, BACKFILL_DAY)
    assert runs, f"backfill {backfills[0]['id']} made no run"

    assert [run["logical_date"][:10] for run in runs] == [BACKFILL_DAY]
    assert wait_for_run(api, "retail_analytics", runs[0]["dag_run_id"])["state"] == "success"
    loads = api.xcom("retail_analytics", runs[0]["dag_run_id"], "summarize_run")["loads"]
    assert all(counts["loaded"] > 0 for counts in loads.values())


def _s3(platform):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=platform.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
