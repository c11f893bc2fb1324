"""The whole retail_analytics DAG with dag.test() against the local AWS server and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from local_platform.seed import SEED_DATA_DIR, upload_retail_seed
from tests.helpers.airflow_runs import run_dag
from tests.helpers.alerts import drain_alerts
from tests.retail_analytics.conftest import query

RAW_BUCKET = "retail-analytics-raw-local"
EXPORT_BUCKET = "retail-analytics-exports-local"
ANALYTICS = ["agg_shipments", "agg_public_holiday_orders", "best_performing_product"]


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def analytics_rows(dsn: str) -> dict[str, list[tuple]]:
    return {name: query(dsn, f"SELECT * FROM analytics.{name} ORDER BY 1, 2") for name in ANALYTICS}


def export_rows(local_aws, name: str, run_date: str) -> list[dict]:
    body = (
        local_aws.client("s3")
        .get_object(Bucket=EXPORT_BUCKET, Key=f"retail_analytics/{name}/dt={run_date}/{name}.csv")["Body"]
        .read()
        .decode()
    )
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
    assert query(
        dsn,
        "SELECT count(*) FILTER (WHERE shipment_date IS NULL), count(*) FILTER "
        "(WHERE delivery_date IS NULL) FROM staging.shipment_deliveries",
    ) == [(6757, 7803)]
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
    assert alert["summary"]["loads"]["orders"] == {
        "read": 10000,
        "loaded": 10000,
        "quarantined": 0,
        "inserted": 10000,
        "updated": 0,
        "unchanged": 0,
    }
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
            s3.put_object(
                Bucket=RAW_BUCKET,
                Key=f"retail/dt={run_date}/orders.csv",
                Body=(seed_orders.rstrip("\n") + "\n10001,7,2022-09-31,3,100,1,100\n").encode(),
            )
        results[run_date] = run_dag("retail_analytics", day(run_date))
        assert results[run_date].state == "success", results[run_date].task_states

    shipments = query(dsn, "SELECT run_date::text, tt_late_shipments FROM analytics.agg_shipments ORDER BY 1")
    months = query(
        dsn,
        "SELECT run_date::text, min(order_month)::text, max(order_month)::text "
        "FROM analytics.agg_public_holiday_orders GROUP BY 1 ORDER BY 1",
    )

    assert [row[0] for row in shipments] == ["2022-03-15", "2022-09-06"]
    assert shipments[0][1] < shipments[1][1]  # fewer orders were known in March
    assert months == [("2022-03-15", "2021-03-01", "2022-02-01"), ("2022-09-06", "2021-09-01", "2022-08-01")]
    for run_date in ("2022-03-15", "2022-09-06"):
        assert {row["run_date"] for row in export_rows(local_aws, "agg_shipments", run_date)} == {run_date}
    assert query(dsn, "SELECT logical_date::text, line_number, reason FROM staging.orders_rejects") == [
        ("2022-09-06", 10002, "order_date: impossible date ('2022-09-31')")
    ]
    assert results["2022-09-06"].xcom("summarize_run")["quarantined_total"] == 1
    assert results["2022-03-15"].xcom("summarize_run")["quarantined_total"] == 0


def put_drop(s3, run_date: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        s3.put_object(Bucket=RAW_BUCKET, Key=f"retail/dt={run_date}/{name}.csv", Body=text.encode())
    s3.put_object(Bucket=RAW_BUCKET, Key=f"retail/dt={run_date}/_SUCCESS", Body=b"")


HEADERS = {
    "orders": "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n",
    "reviews": "review,product_id\n",
    "shipment_deliveries": "shipment_id,order_id,shipment_date,delivery_date\n",
}


@pytest.mark.dag_run
def test_an_empty_drop_is_a_no_data_day_with_its_own_alert_and_empties_its_slice(local_aws, retail_platform):
    dsn = retail_platform
    s3 = local_aws.client("s3")
    upload_retail_seed(s3, RAW_BUCKET, "2022-09-06")
    assert run_dag("retail_analytics", day("2022-09-06")).state == "success"
    drain_alerts(local_aws)
    put_drop(s3, "2022-09-06", {"orders": HEADERS["orders"], "reviews": "", "shipment_deliveries": ""})

    rerun = run_dag("retail_analytics", day("2022-09-06"))

    assert rerun.state == "success", rerun.task_states
    assert rerun.task_states["report_no_data"] == "success"
    assert {rerun.task_states[f"analyse.{name}"] for name in ANALYTICS} == {"skipped"}
    assert query(dsn, "SELECT count(*) FROM staging.orders WHERE drop_date = '2022-09-06'") == [(0,)]
    [alert] = [a for a in drain_alerts(local_aws) if a["pipeline"] == "retail_analytics"]
    assert (alert["event"], alert["subject"], alert["summary"]["rows"]) == ("no_data", "[NO_DATA] retail_analytics", 0)


@pytest.mark.dag_run
def test_an_incomplete_drop_fails_at_once_naming_the_empty_files(local_aws, retail_platform):
    s3 = local_aws.client("s3")
    orders = (SEED_DATA_DIR / "retail" / "orders.csv").read_text()
    put_drop(
        s3,
        "2022-09-06",
        {"orders": orders, "reviews": HEADERS["reviews"], "shipment_deliveries": HEADERS["shipment_deliveries"]},
    )

    result = run_dag("retail_analytics", day("2022-09-06"))

    assert result.state == "failed"
    assert result.task_states["route_by_drop"] == "failed"
    [alert] = [a for a in drain_alerts(local_aws) if a["event"] == "failure"]
    assert alert["try_number"] == 1, "an incomplete drop is not retried"
    assert "incomplete drop: reviews.csv, shipment_deliveries.csv hold no data rows while orders do" in alert["error"]


@pytest.mark.dag_run
def test_runs_of_two_days_give_the_same_rows_in_either_order(local_aws, retail_platform):
    """Each run owns its drop's slice: a later day loaded first, then the earlier day, then the later day again,
    ends where the days in order end."""
    dsn = retail_platform
    s3 = local_aws.client("s3")
    upload_retail_seed(s3, RAW_BUCKET, "2022-09-05")
    shipments = (SEED_DATA_DIR / "retail" / "shipment_deliveries.csv").read_text().splitlines()
    # The next day's snapshot: every shipped but undelivered item was delivered the day after it shipped.
    delivered = [shipments[0]]
    for line in shipments[1:]:
        shipment_id, order_id, shipped, delivered_on = line.split(",")
        if shipped and not delivered_on:
            delivered_on = (date.fromisoformat(shipped) + timedelta(days=1)).isoformat()
        delivered.append(",".join([shipment_id, order_id, shipped, delivered_on]))
    upload_retail_seed(s3, RAW_BUCKET, "2022-09-06")
    s3.put_object(
        Bucket=RAW_BUCKET,
        Key="retail/dt=2022-09-06/shipment_deliveries.csv",
        Body=("\n".join(delivered) + "\n").encode(),
    )

    for run_date in ("2022-09-06", "2022-09-05", "2022-09-06"):
        assert run_dag("retail_analytics", day(run_date)).state == "success"
    out_of_order = (
        analytics_rows(dsn),
        query(
            dsn,
            "SELECT drop_date::text, count(*) FROM staging.shipment_deliveries "
            "WHERE delivery_date IS NULL GROUP BY 1 ORDER BY 1",
        ),
    )
    for name in ANALYTICS:
        query(dsn, f"DELETE FROM analytics.{name} RETURNING 1")
    for run_date in ("2022-09-05", "2022-09-06"):
        assert run_dag("retail_analytics", day(run_date)).state == "success"

    assert (analytics_rows(dsn), out_of_order[1]) == out_of_order
    (first_day, undelivered_then), (second_day, undelivered_later) = out_of_order[1]
    assert (first_day, second_day) == ("2022-09-05", "2022-09-06") and undelivered_later < undelivered_then
