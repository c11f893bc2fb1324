"""The whole retail_analytics DAG with dag.test() against the local AWS server and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from local_platform.seed import SEED_DATA_DIR, upload_retail_seed
from tests.helpers.airflow_runs import run_dag
from tests.helpers.alerts import drain_alerts
from tests.retail.conftest import query

RAW_BUCKET = "retail-analytics-raw-local"
EXPORT_BUCKET = "retail-analytics-exports-local"
ANALYTICS = ["agg_shipments", "agg_public_holiday_orders", "best_performing_product"]


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def analytics_rows(dsn: str) -> dict[str, list[tuple]]:
    return {name: query(dsn, f"SELECT * FROM analytics.{name} ORDER BY 1, 2") for name in ANALYTICS}


def export_rows(local_aws, name: str, run_date: str) -> list[dict]:
    body = local_aws.client("s3").get_object(
        Bucket=EXPORT_BUCKET, Key=f"retail_analytics/{name}/dt={run_date}/{name}.csv")["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def retail_platform(local_aws, stacks, airflow_settings):
    drain_alerts(local_aws)
    return airflow_settings["retail_postgres"]


@pytest.mark.dag_run
def test_retail_dag_loads_analyses_exports_and_alerts_and_reruns_identically(local_aws, retail_platform):
    dsn = retail_platform
    upload_retail_seed(local_aws.client("s3"), RAW_BUCKET, "2022-09-06")

    first = run_dag("retail_analytics", day("2022-09-06"))

    assert first.state == "success", first.task_states
    assert query(dsn, "SELECT count(*) FROM staging.orders") == [(10000,)]
    assert query(dsn, "SELECT count(*), count(DISTINCT review_id) FROM staging.reviews") == [(7236, 7236)]
    assert query(dsn, "SELECT count(*) FILTER (WHERE shipment_date IS NULL), count(*) FILTER "
                      "(WHERE delivery_date IS NULL) FROM staging.shipment_deliveries") == [(6757, 7803)]
    assert first.xcom("load_staging.reviews")["loaded"] == 7236
    rows = analytics_rows(dsn)
    assert len(rows["agg_public_holiday_orders"]) == 12
    assert rows["agg_shipments"][0][0].isoformat() == "2022-09-06"

    exported = export_rows(local_aws, "agg_public_holiday_orders", "2022-09-06")
    assert list(exported[0]) == ["run_date", "order_month", "tt_orders"]  # header, no index column
    assert [int(row["tt_orders"]) for row in exported] == [row[2] for row in rows["agg_public_holiday_orders"]]
    best = export_rows(local_aws, "best_performing_product", "2022-09-06")
    assert int(best[0]["product_id"]) == rows["best_performing_product"][0][1]

    [alert] = [a for a in drain_alerts(local_aws) if a["pipeline"] == "retail_analytics"]
    assert alert["event"] == "success"
    assert alert["task_id"] == "summarize_run"
    assert alert["summary"]["loads"]["orders"] == {"read": 10000, "loaded": 10000, "rejected": 0,
                                                   "inserted": 10000, "updated": 0}
    assert len(alert["summary"]["exports"]) == 3

    second = run_dag("retail_analytics", day("2022-09-06"))

    assert second.state == "success", second.task_states
    assert analytics_rows(dsn) == rows
    assert second.xcom("load_staging.orders")["inserted"] == 0
    assert second.xcom("load_staging.orders")["updated"] == 0


@pytest.mark.dag_run
def test_retail_dag_runs_for_two_dates_side_by_side(local_aws, retail_platform):
    dsn = retail_platform
    s3 = local_aws.client("s3")
    seed_orders = (SEED_DATA_DIR / "retail" / "orders.csv").read_text()
    results = {}
    for run_date in ("2022-03-15", "2022-09-06"):
        upload_retail_seed(s3, RAW_BUCKET, run_date)
        if run_date == "2022-09-06":  # this day's drop carries one malformed order
            s3.put_object(Bucket=RAW_BUCKET, Key=f"retail/dt={run_date}/orders.csv",
                          Body=(seed_orders.rstrip("\n") + "\n10001,7,2022-09-31,3,100,1,100\n").encode())
        results[run_date] = run_dag("retail_analytics", day(run_date))
        assert results[run_date].state == "success", results[run_date].task_states

    shipments = query(dsn, "SELECT run_date::text, tt_late_shipments FROM analytics.agg_shipments ORDER BY 1")
    months = query(dsn, "SELECT run_date::text, min(order_month)::text, max(order_month)::text "
                        "FROM analytics.agg_public_holiday_orders GROUP BY 1 ORDER BY 1")

    assert [row[0] for row in shipments] == ["2022-03-15", "2022-09-06"]
    assert shipments[0][1] < shipments[1][1]  # fewer orders were known in March
    assert months == [("2022-03-15", "2021-03-01", "2022-02-01"), ("2022-09-06", "2021-09-01", "2022-08-01")]
    for run_date in ("2022-03-15", "2022-09-06"):
        assert {row["run_date"] for row in export_rows(local_aws, "agg_shipments", run_date)} == {run_date}
    assert query(dsn, "SELECT logical_date::text, line_number, reason FROM staging.orders_rejects") == [
        ("2022-09-06", 10002, "order_date: '2022-09-31' is not a date (YYYY-MM-DD)")]
    assert results["2022-09-06"].xcom("summarize_run")["rejected_total"] == 1
    assert results["2022-03-15"].xcom("summarize_run")["rejected_total"] == 0
