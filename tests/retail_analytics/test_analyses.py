"""The retail analyses (include/sql/retail_analytics) on the seed data in real PostgreSQL, against expected
values derived independently here with pandas and the holidays package."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from pathlib import Path

import holidays
import pandas as pd
import psycopg2
import pytest
from airflow.providers.common.sql.hooks.sql import DbApiHook
from pipeline_kit.calendar_dim import calendar_rows, refresh_dim_dates
from pipeline_kit.paths import sql_dir

from local_platform.seed import SEED_DATA_DIR
from tests.retail_analytics.conftest import query

SEED = SEED_DATA_DIR / "retail"
SQL = Path(sql_dir()) / "retail_analytics"
ANALYSES = ["agg_shipments.sql", "agg_public_holiday_orders.sql", "best_performing_product.sql"]
RUN_DATES = [date(2022, 9, 6), date(2022, 3, 15)]


def run_sql_file(dsn: str, name: str, params: dict | None = None) -> None:
    """The way SQLExecuteQueryOperator(split_statements=True) runs a file: statement by statement, one commit."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            for statement in DbApiHook.split_sql_string((SQL / name).read_text()):
                cur.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seed():
    orders = pd.read_csv(SEED / "orders.csv", parse_dates=["order_date"])
    reviews = pd.read_csv(SEED / "reviews.csv")
    shipments = pd.read_csv(SEED / "shipment_deliveries.csv", parse_dates=["shipment_date", "delivery_date"])
    return orders, reviews, shipments


@pytest.fixture
def warehouse(postgres_db, seed):
    """The seed in staging as the drop of every run date (copied in directly, not through the pipeline's loader)
    and a Nigerian calendar."""
    orders, reviews, shipments = seed
    run_sql_file(postgres_db, "ddl.sql")
    reviews = reviews.assign(review_id=[hashlib.sha1(f"{i}".encode()).hexdigest() for i in range(len(reviews))])
    conn = psycopg2.connect(postgres_db)
    with conn.cursor() as cur:
        for run_date in RUN_DATES:
            for table, frame in (
                ("orders", orders),
                ("reviews", reviews[["review_id", "review", "product_id"]]),
                ("shipment_deliveries", shipments),
            ):
                buffer = io.StringIO()
                frame.assign(drop_date=run_date).to_csv(buffer, index=False, date_format="%Y-%m-%d")
                buffer.seek(0)
                columns = ", ".join([*frame.columns, "drop_date"])
                cur.copy_expert(f"COPY staging.{table} ({columns}) FROM STDIN CSV HEADER", buffer)
    conn.commit()
    refresh_dim_dates(conn, "analytics.dim_dates", 2020, 2023, "NG")
    conn.close()
    return postgres_db


def expected_shipments(orders, shipments, run_date):
    day = pd.Timestamp(run_date)
    merged = orders[orders.order_date <= day].merge(shipments, on="order_id", how="left")
    not_delivered = merged.delivery_date.isna() | (merged.delivery_date > day)
    late = (
        (merged.shipment_date <= day)
        & (merged.shipment_date >= merged.order_date + pd.Timedelta(days=6))
        & not_delivered
    )
    not_shipped = merged.shipment_date.isna() | (merged.shipment_date > day)
    undelivered = not_shipped & not_delivered & (merged.order_date + pd.Timedelta(days=15) <= day)
    return int(late.sum()), int(undelivered.sum())


def test_calendar_marks_nigerian_public_holidays_and_working_days():
    rows = {row[0]: row for row in calendar_rows(2022, 2022, "NG")}
    assert len(rows) == 365
    assert rows[date(2022, 10, 1)][7:9] == (True, "National Day")
    assert rows[date(2022, 10, 3)][7:10] == (True, "National Day (observed)", False)  # a Monday off
    assert rows[date(2022, 10, 4)][7:10] == (False, None, True)
    assert rows[date(2022, 10, 8)][6] is True  # Saturday
    assert sum(row[9] for row in rows.values()) == 260 - sum(
        1 for day in holidays.Nigeria(years=2022) if day.isoweekday() < 6
    )


@pytest.mark.parametrize("run_date", RUN_DATES, ids=str)
def test_late_and_undelivered_counts_match_pandas(warehouse, seed, run_date):
    orders, _, shipments = seed
    run_sql_file(warehouse, "agg_shipments.sql", {"run_date": run_date.isoformat()})

    rows = query(warehouse, "SELECT run_date, tt_late_shipments, tt_undelivered_items FROM analytics.agg_shipments")

    assert rows == [(run_date, *expected_shipments(orders, shipments, run_date))]


@pytest.mark.parametrize("run_date", RUN_DATES, ids=str)
def test_public_holiday_orders_per_month_over_past_year_match_pandas(warehouse, seed, run_date):
    orders, _, _ = seed
    run_sql_file(warehouse, "agg_public_holiday_orders.sql", {"run_date": run_date.isoformat()})

    rows = query(
        warehouse,
        "SELECT order_month, tt_orders FROM analytics.agg_public_holiday_orders "
        "WHERE run_date = %s ORDER BY order_month",
        (run_date,),
    )

    holiday_days = {pd.Timestamp(day) for day in holidays.Nigeria(years=range(2020, 2024))}
    on_holiday = orders[orders.order_date.isin(holiday_days)]
    per_month = on_holiday.groupby(on_holiday.order_date.dt.to_period("M")).size()
    this_month = pd.Period(run_date, "M")
    expected = [
        ((this_month - n).to_timestamp().date(), int(per_month.get(this_month - n, 0))) for n in range(12, 0, -1)
    ]
    assert rows == expected
    assert sum(count for _, count in rows) > 0


@pytest.mark.parametrize("run_date", RUN_DATES, ids=str)
def test_best_performing_product_matches_pandas(warehouse, seed, run_date):
    orders, reviews, shipments = seed
    run_sql_file(warehouse, "best_performing_product.sql", {"run_date": run_date.isoformat()})

    [row] = query(
        warehouse,
        "SELECT product_id, tt_review_points, tt_reviews, most_ordered_day, "
        "most_ordered_day_orders, is_most_ordered_day_public_holiday, pct_one_star_review, "
        "pct_two_star_review, pct_three_star_review, pct_four_star_review, "
        "pct_five_star_review, tt_orders, tt_late_shipments, pct_late_shipments "
        "FROM analytics.best_performing_product WHERE run_date = %s",
        (run_date,),
    )

    points = reviews.groupby("product_id").review.agg(["sum", "count"]).reset_index()
    best = points.sort_values(["sum", "product_id"], ascending=[False, True]).iloc[0]
    product = int(best.product_id)
    mine = orders[(orders.product_id == product) & (orders.order_date <= pd.Timestamp(run_date))]
    per_day = mine.groupby("order_date").size().reset_index(name="n")
    busiest = per_day.sort_values(["n", "order_date"], ascending=[False, True]).iloc[0]
    stars = reviews[reviews.product_id == product].review.value_counts(normalize=True) * 100
    late, _ = expected_shipments(mine, shipments, run_date)

    assert row[:6] == (
        product,
        int(best["sum"]),
        int(best["count"]),
        busiest.order_date.date(),
        int(busiest.n),
        busiest.order_date.date() in holidays.Nigeria(years=busiest.order_date.year),
    )
    assert [float(value) for value in row[6:11]] == pytest.approx([stars.get(n, 0) for n in range(1, 6)], abs=0.005)
    assert row[11:13] == (len(mine), late)
    assert float(row[13]) == pytest.approx(100 * late / len(mine), abs=0.005)


def test_rerunning_analyses_for_a_date_replaces_its_rows(warehouse):
    params = {"run_date": "2022-09-06"}
    for name in ANALYSES:
        run_sql_file(warehouse, name, params)
    first = [query(warehouse, f"SELECT * FROM analytics.{name[:-4]} ORDER BY 1, 2") for name in ANALYSES]

    for name in ANALYSES:
        run_sql_file(warehouse, name, params)

    assert [query(warehouse, f"SELECT * FROM analytics.{name[:-4]} ORDER BY 1, 2") for name in ANALYSES] == first
