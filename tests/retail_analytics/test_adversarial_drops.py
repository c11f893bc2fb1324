"""Malformed and edge-case drops (tests/retail_analytics/adversarial/, expectations in cases.yaml) through the
retail load, over a table that already holds a day: every row is accounted for, each problem named, and a drop
that fails leaves the table byte-identical and says why."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pipeline_kit.s3_to_postgres import S3ToPostgresMergeOperator

from local_platform.settings import PROJECT_ROOT
from tests.retail_analytics.conftest import execute, query

CASES_DIR = Path(__file__).parent / "adversarial"
CASES = yaml.safe_load((CASES_DIR / "cases.yaml").read_text())["cases"]
HEADER = "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
FIRST_DAY = HEADER + "1,5,2022-07-13,24,139,10,1390\n2,7,2022-07-14,3,12.50,2,25\n"
CHECKSUM = (
    "SELECT count(*), md5(coalesce(string_agg(o::text, ',' ORDER BY drop_date, order_id), '')) FROM staging.orders o"
)


def drop_content(name: str) -> bytes:
    if name == "very_long_field":
        return (HEADER + "1,5,2022-07-13,24,139,10,1390\n2,7,2022-07-14,3," + "9" * 200_000 + ",2,25\n").encode()
    return (CASES_DIR / f"{name}.csv").read_bytes()


def load(bucket: str, day: str, max_reject_rate: float | None = None) -> dict:
    return S3ToPostgresMergeOperator(
        task_id="orders",
        s3_bucket=bucket,
        s3_key=f"retail/dt={day}/orders.csv",
        postgres_conn_id="load_target",
        table="staging.orders",
        key_columns=["order_id"],
        slice_column="drop_date",
        max_reject_rate=max_reject_rate,
        logical_date=day,
    ).execute({})


@pytest.fixture
def orders_with_a_first_day(local_aws, bucket, load_connections):
    execute(load_connections, (PROJECT_ROOT / "include" / "sql" / "retail_analytics" / "ddl.sql").read_text())
    local_aws.client("s3").put_object(Bucket=bucket, Key="retail/dt=2022-09-06/orders.csv", Body=FIRST_DAY.encode())
    load(bucket, "2022-09-06")
    return load_connections


@pytest.mark.parametrize("name", sorted(CASES), ids=str)
def test_a_malformed_drop_is_accounted_for_row_by_row(name, local_aws, bucket, orders_with_a_first_day):
    expected = CASES[name]
    dsn = orders_with_a_first_day
    local_aws.client("s3").put_object(Bucket=bucket, Key="retail/dt=2022-09-07/orders.csv", Body=drop_content(name))
    before = query(dsn, CHECKSUM)
    first_day = query(dsn, "SELECT * FROM staging.orders WHERE drop_date = '2022-09-06' ORDER BY order_id")

    if "error" in expected:
        with pytest.raises(Exception) as failure:
            load(bucket, "2022-09-07", expected.get("max_reject_rate"))
        assert expected["error"].format(bucket=bucket) in str(failure.value)
        assert query(dsn, CHECKSUM) == before, "a failed load leaves the table as it was"
        return

    counts = load(bucket, "2022-09-07")

    assert counts["read"] == counts["loaded"] + counts["quarantined"]
    assert (counts["read"], counts["loaded"], counts["quarantine_reasons"]) == (
        expected["read"],
        expected["loaded"],
        expected["reasons"],
    )
    assert query(dsn, "SELECT count(*) FROM staging.orders WHERE drop_date = '2022-09-07'") == [(expected["loaded"],)]
    assert query(dsn, "SELECT count(*) FROM staging.orders_rejects WHERE logical_date = '2022-09-07'") == [
        (counts["quarantined"],)
    ]
    assert query(dsn, "SELECT * FROM staging.orders WHERE drop_date = '2022-09-06' ORDER BY order_id") == first_day, (
        "a drop never touches another day"
    )


def test_a_second_drop_for_the_same_day_replaces_the_first(local_aws, bucket, orders_with_a_first_day):
    dsn = orders_with_a_first_day
    s3 = local_aws.client("s3")
    s3.put_object(
        Bucket=bucket,
        Key="retail/dt=2022-09-06/orders.csv",
        Body=(HEADER + "2,7,2022-07-14,3,12.50,3,37.50\n3,9,2022-07-15,1,5,1,5\n").encode(),
    )

    counts = load(bucket, "2022-09-06")

    assert {key: counts[key] for key in ("read", "inserted", "updated", "unchanged", "deleted")} == {
        "read": 2,
        "inserted": 1,
        "updated": 1,
        "unchanged": 0,
        "deleted": 1,
    }
    assert query(dsn, "SELECT order_id, quantity FROM staging.orders ORDER BY 1") == [(2, 3), (3, 1)]
