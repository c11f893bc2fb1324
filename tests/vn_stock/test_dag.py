"""The vn_stock DAG end to end on the local platform: the RDS cluster started and stopped, the scraper Lambda
in real headless Chromium against the local cafef.vn page, the Glue job on real PySpark, the upsert into
PostgreSQL (standing in for Aurora) and the data-quality checks."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import psycopg2
import pytest
from vn_stock_clean import CLEAN_COLUMNS

from tests.helpers.airflow_runs import load_dag, run_dag
from tests.helpers.alerts import drain_alerts
from tests.vn_stock.conftest import expected_clean

pytestmark = [pytest.mark.dag_run, pytest.mark.browser, pytest.mark.spark]

CLUSTER = "vn-stock-aurora"
RAW = "vn-stock-raw-local"


@pytest.fixture(scope="module")
def provisioned(local_aws, stacks):
    return local_aws


def cluster_status(local_aws) -> str:
    return local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["Status"]


@pytest.fixture
def platform(provisioned, airflow_settings, fake_cafef, monkeypatch):
    """The pipeline's settings pointing the scraper at the local page, the cluster stopped as between runs,
    no alerts queued. Returns the Aurora stand-in's DSN."""
    config = json.loads(os.environ["AIRFLOW_VAR_VN_STOCK"])
    monkeypatch.setenv("AIRFLOW_VAR_VN_STOCK", json.dumps({**config, "source_url": fake_cafef.url}))
    if cluster_status(provisioned) == "available":
        provisioned.client("rds").stop_db_cluster(DBClusterIdentifier=CLUSTER)
    drain_alerts(provisioned)
    return airflow_settings["aurora_vn_stock"]


def table_rows(dsn: str) -> list[dict]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(CLEAN_COLUMNS)}, xmin::text FROM vn_stock.daily_index ORDER BY trading_date")
        rows = [dict(zip([*CLEAN_COLUMNS, "xmin"], row, strict=True)) for row in cur.fetchall()]
    conn.close()
    return rows


def table_snapshot(dsn: str) -> list[dict] | None:
    """The table's rows with their xmin (a rewritten row shows), or None before the first load created it."""
    try:
        return table_rows(dsn)
    except psycopg2.errors.UndefinedTable:
        return None


def without_xmin(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "xmin"} for row in rows]


def expected_rows(seed_rows, *days: str) -> list[dict]:
    wanted = [row for row in seed_rows if expected_clean(row)["dt"] in days]
    return [{k: v for k, v in expected_clean(row).items() if k != "dt"} for row in wanted]


def run_trading_day(year: int, month: int, day: int, conf: dict | None = None):
    # 22:00 in Ho Chi Minh City, when the schedule fires
    return run_dag("vn_stock", datetime(year, month, day, 15, 0, tzinfo=UTC), conf)


def test_trading_day_is_scraped_cleaned_upserted_and_the_cluster_stopped_again(platform, provisioned, seed_rows):
    result = run_trading_day(2023, 11, 13)

    assert result.state == "success", result.task_states
    assert set(result.task_states.values()) == {"success", "skipped"}
    assert result.task_states["report_no_trading"] == "skipped"
    assert without_xmin(table_rows(platform)) == expected_rows(seed_rows, "2023-11-13")
    # The cluster was started (it was stopped) and is stopped again.
    assert result.xcom("start_aurora")["DBCluster"]["Status"] == "started"
    assert result.task_states["stop_aurora"] == "success"
    assert cluster_status(provisioned) == "stopped"
    raw = provisioned.client("s3").get_object(Bucket=RAW, Key="raw/vn_stock/dt=2023-11-13/20231113.csv")
    assert "740,255,909" in raw["Body"].read().decode()
    [alert] = drain_alerts(provisioned)
    assert alert["event"] == "success"
    assert alert["summary"]["inserted"] == 1


def test_rerun_same_date_leaves_rows_unchanged(platform, seed_rows):
    first = run_trading_day(2023, 11, 14)
    rows_after_first = table_rows(platform)
    second = run_trading_day(2023, 11, 14)

    assert (first.state, second.state) == ("success", "success")
    assert without_xmin(rows_after_first) == expected_rows(seed_rows, "2023-11-14")
    assert table_rows(platform) == rows_after_first  # same values and the row was not even rewritten (xmin)
    counts = second.xcom("load_into_aurora")
    assert (counts["loaded"], counts["inserted"], counts["updated"]) == (1, 0, 0)


def test_five_day_backfill_loads_the_trading_days_and_skips_the_weekend(platform, provisioned, seed_rows):
    result = run_trading_day(2023, 11, 20, conf={"date_from": "2023-11-16", "date_to": "2023-11-20"})

    assert result.state == "success", result.task_states
    # Thursday, Friday and Monday: 5 days minus Saturday and Sunday.
    assert without_xmin(table_rows(platform)) == expected_rows(seed_rows, "2023-11-16", "2023-11-17", "2023-11-20")
    assert result.task_states["check_changes"] == "success"  # Friday -> Monday change checked across the weekend
    assert cluster_status(provisioned) == "stopped"


def test_day_without_trading_loads_nothing_and_sends_an_informational_message(platform, provisioned):
    result = run_trading_day(2023, 10, 9, conf={"date_from": "2023-10-07"})

    assert result.state == "success", result.task_states
    assert result.task_states.get("report_no_trading") == "success", result.task_states
    for skipped in (
        "clean_prices",
        "read_job_report",
        "create_table",
        "load_into_aurora",
        "check_table",
        "check_changes",
        "confirm_no_rejects",
    ):
        assert result.task_states[skipped] == "skipped", skipped
    assert result.task_states["stop_aurora"] == "success"
    assert cluster_status(provisioned) == "stopped"
    [alert] = drain_alerts(provisioned)
    assert alert["subject"] == "[NO_TRADING] vn_stock"
    assert alert["summary"] == {"date_from": "2023-10-07", "date_to": "2023-10-07", "rows": 0}


def test_failed_scrape_fails_the_run_alerts_and_still_stops_the_cluster(platform, provisioned, fake_cafef, monkeypatch):
    config = json.loads(os.environ["AIRFLOW_VAR_VN_STOCK"])
    monkeypatch.setenv("AIRFLOW_VAR_VN_STOCK", json.dumps({**config, "source_url": f"{fake_cafef.url}?layout=changed"}))
    dag = load_dag("vn_stock")
    for task in dag.tasks:
        task.retries = 0  # the failure path without minutes of retry back-off
    before = table_snapshot(platform)

    dag_run = dag.test(logical_date=datetime(2023, 11, 15, 15, 0, tzinfo=UTC))

    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "failed"  # the teardown's success does not hide the failure
    assert states["scrape"] == "failed"
    assert states["stop_aurora"] == "success"
    assert cluster_status(provisioned) == "stopped"
    failures = [alert for alert in drain_alerts(provisioned) if alert["event"] == "failure"]
    assert [alert["task_id"] for alert in failures] == ["scrape"]
    assert "history table #owner-contents-table not found" in failures[0]["error"]
    assert table_snapshot(platform) == before


def test_unreadable_row_is_quarantined_the_good_rows_load_and_the_run_fails_naming_it(
    platform, provisioned, fake_cafef, seed_rows, monkeypatch
):
    config = json.loads(os.environ["AIRFLOW_VAR_VN_STOCK"])
    monkeypatch.setenv(
        "AIRFLOW_VAR_VN_STOCK", json.dumps({**config, "source_url": f"{fake_cafef.url}?garble=15/11/2023"})
    )

    result = run_trading_day(2023, 11, 15, conf={"date_from": "2023-11-13", "date_to": "2023-11-15"})

    assert result.state == "failed"
    assert result.task_states["load_into_aurora"] == "success"
    assert result.task_states["confirm_no_rejects"] == "failed"
    assert without_xmin(table_rows(platform)) == expected_rows(seed_rows, "2023-11-13", "2023-11-14")
    assert cluster_status(provisioned) == "stopped"
    rejects_prefix = "rejects/vn_stock/2023-11-13_2023-11-15/"
    s3 = provisioned.client("s3")
    [rejects_key] = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=RAW, Prefix=rejects_prefix)["Contents"]
        if item["Key"].endswith(".csv")
    ]
    rejects = s3.get_object(Bucket=RAW, Key=rejects_key)["Body"].read().decode()
    assert "15/11/2023" in rejects and "n/a" in rejects
    failures = [alert for alert in drain_alerts(provisioned) if alert["event"] == "failure"]
    assert [alert["task_id"] for alert in failures] == ["confirm_no_rejects"]
    assert "1 scraped row(s) rejected" in failures[0]["error"]
    assert f"s3://{RAW}/{rejects_prefix}" in failures[0]["error"]
